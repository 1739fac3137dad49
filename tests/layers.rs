//! The runtime's import rule, checked: every file of `runtime/` belongs to a layer, imports
//! only from its own layer or the layers below, and no files import each other in a circle.
//!
//! **The table.** The layers are the first markdown table in `runtime/lib.rs`'s doc comment
//! whose header's first cell is `layer`; `README.md` must contain each of its rows verbatim
//! (without the `//! `). In each body row the first cell starts with the layer's number and
//! the last cell lists the files as backticked patterns relative to `runtime/`:
//!
//! ```text
//! //! | layer | what it holds | files |
//! //! |---|---|---|
//! //! | 0 · leaves | locks, loom facade, trace | `util.rs`, `primitives.rs`, `trace.rs` |
//! //! | 1 · task core | the task and its state word | `task/{raw,state,join}.rs` |
//! //! | 5 · public API | everything else | `./` |
//! ```
//!
//! A pattern is a file (`util.rs`), a directory (`net/`: every `.rs` below it; `./` is all of
//! `runtime/`) or a brace list (`task/{raw,state}.rs`). The most specific pattern wins: a file
//! beats any directory, a deeper directory beats a shallower one. Every `.rs` file must be
//! placed exactly once, except test-only files (`#[cfg(test)] mod test_support;`) and the loom
//! models (`#[cfg(all(loom, test))] mod loom_models;`).
//!
//! **What counts as an import.** Left out: test items (`#[cfg(test)]` modules and functions,
//! `#[cfg(all(loom, test))]`), comments and string literals. Counted: every leaf of every
//! plain `use` tree; every path in code (`crate::task::poll_proceed(cx)`,
//! `super::Instant::now()`, `$crate::__join!`, `raw::Header` through a child module or a
//! `use`d one); every call of a `macro_rules!` macro by its bare name (`channel_ends!`),
//! which imports the file that defines it. A path is resolved to the file that *defines* the
//! name: each `use` on the way, a re-export or not, is followed to its target where it is
//! written. A re-export itself (`pub use`, `pub(crate) use`) is not an import of the file
//! that writes it (see [`REEXPORTS_ARE_IMPORTS`]). Inside a `macro_rules!` body only
//! `crate::`/`$crate::` paths count: the others are resolved where the macro is called.
//! Paths into other crates (`std::`, `mio::`, …) are not imports.
//!
//! **Reading a failure.** An upward import names both files with their layers, the line and
//! the path as written: move the code down, or hand the value down as a parameter. A circle
//! names every file of the group that imports each other, then the shortest circle through
//! the first of them, hop by hop with the line and path of each hop. Break a hop and run
//! again: the group shrinks or splits. `LAYERS_EDGES=1 cargo test --test layers --
//! --nocapture` prints every edge (the first line that makes it), and `--nocapture` alone
//! the code lines per layer.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// First segments that lead out of this crate: such a path is not an import.
const EXTERNAL_CRATES: &[&str] = &[
    "::",
    "std",
    "core",
    "alloc",
    "mio",
    "crossbeam_channel",
    "slab",
    "loom",
    "libc",
    "asincrono_macros",
];

/// Whether a re-export (`pub use`, `pub(crate) use`) is an import of the file that
/// re-exports. It is not: that file passes the name on without using it, and whoever imports
/// the name through it gets an edge straight to the defining file. Counted, every facade
/// `mod.rs` would form a circle with each child that calls a helper of the facade.
const REEXPORTS_ARE_IMPORTS: bool = false;

/// How many `use`s one path may pass through before it is taken for a loop.
const MAX_HOPS: usize = 32;

// ---- The source with comments and literals blanked -------------------------------------

/// A file with every comment and every string or character literal replaced by spaces,
/// newlines and byte offsets kept, so that no word inside them is taken for code.
struct Blanked {
    code: String,
    /// Per 0-based line: whether anything but whitespace and comments is on it.
    has_code: Vec<bool>,
}

fn blank(source: &str) -> Blanked {
    let bytes = source.as_bytes();
    let mut code = bytes.to_vec();
    let mut has_code = vec![false; bytes.iter().filter(|&&b| b == b'\n').count() + 1];
    let (mut i, mut line) = (0, 0);
    while i < bytes.len() {
        if let Some(end) = comment_end(bytes, i) {
            line = wipe(&mut code[i..end], line, None);
            i = end;
        } else if let Some(end) = literal_end(bytes, i) {
            line = wipe(&mut code[i..end], line, Some(&mut has_code));
            i = end;
        } else {
            match bytes[i] {
                b'\n' => line += 1,
                byte if !byte.is_ascii_whitespace() => has_code[line] = true,
                _ => {}
            }
            i += 1;
        }
    }
    let code = String::from_utf8(code).expect("only whole characters are blanked");
    Blanked { code, has_code }
}

/// Spaces over `range`, newlines kept; the lines of a literal count as code. Returns the
/// line reached.
fn wipe(range: &mut [u8], mut line: usize, mut code_lines: Option<&mut Vec<bool>>) -> usize {
    for byte in range {
        if let Some(lines) = code_lines.as_deref_mut() {
            lines[line] = true;
        }
        match byte {
            b'\n' => line += 1,
            _ => *byte = b' ',
        }
    }
    line
}

/// Where a `//` or (nested) `/* */` comment starting at `i` ends.
fn comment_end(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i..i + 2)? {
        b"//" => Some(
            bytes[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| i + n),
        ),
        b"/*" => {
            let (mut depth, mut j) = (0, i);
            while j < bytes.len() {
                match bytes.get(j..j + 2) {
                    Some(b"/*") => (depth, j) = (depth + 1, j + 2),
                    Some(b"*/") if depth == 1 => return Some(j + 2),
                    Some(b"*/") => (depth, j) = (depth - 1, j + 2),
                    _ => j += 1,
                }
            }
            Some(bytes.len())
        }
        _ => None,
    }
}

/// Where a string, raw string or character literal starting at `i` ends. A lifetime
/// (`'a`) is not a literal.
fn literal_end(bytes: &[u8], i: usize) -> Option<usize> {
    let ident_before = |at: usize| at > 0 && is_ident_byte(bytes[at - 1]);
    match bytes[i] {
        b'"' => Some(quoted_end(bytes, i + 1, b'"')),
        b'\'' if bytes.get(i + 1) == Some(&b'\\') => Some(quoted_end(bytes, i + 1, b'\'')),
        b'\'' => {
            let width = bytes.get(i + 1).map_or(1, |&b| utf8_width(b));
            (bytes.get(i + 1 + width) == Some(&b'\'')).then_some(i + 2 + width)
        }
        b'r' if !ident_before(i) || (bytes[i - 1] == b'b' && !ident_before(i - 1)) => {
            raw_string_end(bytes, i + 1)
        }
        _ => None,
    }
}

/// The end of a literal closed by `quote`, from `from` on, skipping backslash escapes.
fn quoted_end(bytes: &[u8], from: usize, quote: u8) -> usize {
    let mut j = from;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            byte if byte == quote => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// After an `r`: `#"…"#` with any number of `#`, or nothing if this `r` starts a name.
fn raw_string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let hashes = bytes[from..].iter().take_while(|&&b| b == b'#').count();
    if bytes.get(from + hashes) != Some(&b'"') {
        return None;
    }
    let closing: Vec<u8> = std::iter::once(b'"').chain(vec![b'#'; hashes]).collect();
    let body = from + hashes + 1;
    let found = bytes[body..]
        .windows(closing.len())
        .position(|w| w == closing);
    Some(found.map_or(bytes.len(), |n| body + n + closing.len()))
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

// ---- Tokens ------------------------------------------------------------------------------

/// A word (`crate`, `$crate`, `Waker`), `::`, or any other single character, on a 1-based line.
struct Token<'a> {
    text: &'a str,
    line: usize,
    offset: usize,
}

fn tokens(code: &str) -> Vec<Token<'_>> {
    let bytes = code.as_bytes();
    let (mut found, mut i, mut line) = (Vec::new(), 0, 1);
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'\n' => line += 1,
            byte if byte.is_ascii_whitespace() => {}
            b':' if bytes.get(i + 1) == Some(&b':') => i += 1,
            b'$' if bytes.get(i + 1).is_some_and(|&b| is_ident_byte(b)) => {
                i = word_end(bytes, i + 1) - 1
            }
            byte if is_ident_byte(byte) => i = word_end(bytes, i) - 1,
            byte => i += utf8_width(byte) - 1,
        }
        i += 1;
        let text = &code[start..i];
        if !text.trim().is_empty() {
            found.push(Token {
                text,
                line,
                offset: start,
            });
        }
    }
    found
}

fn word_end(bytes: &[u8], from: usize) -> usize {
    from + bytes[from..]
        .iter()
        .take_while(|&&b| is_ident_byte(b))
        .count()
}

/// The text of token `pos`, or `""` past the end.
fn text<'a>(tokens: &[Token<'a>], pos: usize) -> &'a str {
    tokens.get(pos).map_or("", |token| token.text)
}

fn is_word(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|b| is_ident_byte(b) || b == b'$')
}

// ---- `use` trees -------------------------------------------------------------------------

/// One leaf of a `use` tree: the full path, and the name it binds (`None` for `as _`,
/// `"*"` for a glob).
#[derive(Debug, PartialEq)]
struct UseLeaf {
    path: Vec<String>,
    binds: Option<String>,
    line: usize,
}

/// Parses the tree that follows `use` (at `pos`); returns its leaves and the position after
/// the closing `;`.
fn parse_use(tokens: &[Token], mut pos: usize) -> (Vec<UseLeaf>, usize) {
    let mut leaves = Vec::new();
    use_tree(tokens, &mut pos, Vec::new(), &mut leaves);
    while pos < tokens.len() && text(tokens, pos - 1) != ";" {
        pos += 1;
    }
    (leaves, pos)
}

fn use_tree(tokens: &[Token], pos: &mut usize, mut path: Vec<String>, out: &mut Vec<UseLeaf>) {
    if text(tokens, *pos) == "::" {
        path.push("::".to_string());
        *pos += 1;
    }
    loop {
        let here = text(tokens, *pos);
        *pos += 1;
        match here {
            "{" => return use_list(tokens, pos, path, out),
            "*" => {
                let line = tokens[*pos - 1].line;
                return out.push(UseLeaf {
                    path,
                    binds: Some("*".to_string()),
                    line,
                });
            }
            word if is_word(word) && text(tokens, *pos) == "::" => {
                path.push(word.to_string());
                *pos += 1;
            }
            word if is_word(word) => {
                path.push(word.to_string());
                let line = tokens[*pos - 1].line;
                return out.push(use_leaf(tokens, pos, path, line));
            }
            _ => return,
        }
    }
}

/// The inside of `{ a, b::{C, D} }`, `{` already taken.
fn use_list(tokens: &[Token], pos: &mut usize, path: Vec<String>, out: &mut Vec<UseLeaf>) {
    while !matches!(text(tokens, *pos), "}" | "") {
        use_tree(tokens, pos, path.clone(), out);
        if text(tokens, *pos) == "," {
            *pos += 1;
        }
    }
    *pos += 1;
}

/// A leaf's binding: its last name, or what follows `as`; `a::b::self` binds `b`.
fn use_leaf(tokens: &[Token], pos: &mut usize, mut path: Vec<String>, line: usize) -> UseLeaf {
    if path.len() > 1 && path.last().is_some_and(|last| last == "self") {
        path.pop();
    }
    let mut binds = path.last().cloned();
    if text(tokens, *pos) == "as" {
        binds = Some(text(tokens, *pos + 1))
            .filter(|&name| name != "_")
            .map(String::from);
        *pos += 2;
    }
    UseLeaf { path, binds, line }
}

// ---- The module tree ---------------------------------------------------------------------

/// A module: a file, or a `mod name { … }` inside one.
struct Module {
    file: String,
    parent: Option<usize>,
    /// Where its `mod child;` files are (relative to `runtime/`).
    child_dir: PathBuf,
    children: BTreeMap<String, usize>,
    /// What each `use` binds here: name → path, relative to this module.
    bindings: BTreeMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    /// `macro_rules!` macros defined here without `#[macro_export]`.
    macros: BTreeSet<String>,
}

/// A path written in non-test code, to be resolved once every module is read.
struct Reference {
    module: usize,
    line: usize,
    path: Vec<String>,
    /// `name!(…)` with no path: a `macro_rules!` macro of this module or an enclosing one.
    bare_macro: bool,
}

/// What the attributes before an item say.
#[derive(Default)]
struct Attrs {
    first_line: Option<usize>,
    test: bool,
    macro_export: bool,
    path: Option<String>,
}

/// The crate as the test sees it: modules, the paths they write, and per file the lines of
/// code outside test items.
#[derive(Default)]
struct Model {
    modules: Vec<Module>,
    references: Vec<Reference>,
    exported_macros: BTreeMap<String, usize>,
    /// Test-only files, and (ending in `/`) test-only directories.
    test_only: Vec<String>,
    code_lines: BTreeMap<String, usize>,
}

/// Gives a file's text by its path relative to `runtime/` (the unit tests hand in strings).
type Reader<'r> = &'r dyn Fn(&str) -> Option<String>;

/// How far the reading of one file has come.
struct FileScan<'a> {
    source: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    /// The modules open here, innermost last, each with the brace depth just inside it.
    scopes: Vec<(usize, usize)>,
    depth: usize,
    attrs: Attrs,
    macro_body_end: usize,
    /// Per 0-based line: whether it belongs to a test item.
    in_test: Vec<bool>,
}

impl<'a> FileScan<'a> {
    fn new(source: &'a str, code: &'a str, top: usize) -> FileScan<'a> {
        FileScan {
            source,
            tokens: tokens(code),
            pos: 0,
            scopes: vec![(top, 0)],
            depth: 0,
            attrs: Attrs::default(),
            macro_body_end: 0,
            in_test: vec![false; code.lines().count() + 1],
        }
    }

    fn text(&self, ahead: usize) -> &'a str {
        text(&self.tokens, self.pos + ahead)
    }

    fn text_before(&self) -> &'a str {
        text(&self.tokens, self.pos.wrapping_sub(1))
    }

    fn module(&self) -> usize {
        self.scopes
            .last()
            .expect("the file's own module stays open")
            .0
    }

    fn attribute(&mut self) {
        self.pos = attribute(&self.tokens, self.pos, self.source, &mut self.attrs);
    }

    fn close_brace(&mut self) {
        if self.scopes.len() > 1 && self.scopes.last().is_some_and(|&(_, d)| d == self.depth) {
            self.scopes.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Where a path leads.
#[derive(Debug, PartialEq)]
enum Place {
    Module(usize),
    Item(String),
    External,
}

impl Model {
    /// Reads the crate from `lib.rs` down; `read` gives a file's text by its path relative
    /// to `runtime/` (so the unit tests can hand in strings).
    fn load(read: Reader) -> Model {
        let mut model = Model::default();
        model.add_module("lib.rs".to_string(), None, PathBuf::new(), "");
        let mut pending = vec![0];
        while let Some(module) = pending.pop() {
            let file = model.modules[module].file.clone();
            let source = read(&file).unwrap_or_else(|| panic!("cannot read runtime/{file}"));
            pending.extend(model.scan(module, &source, read));
        }
        model
    }

    fn add_module(
        &mut self,
        file: String,
        parent: Option<usize>,
        dir: PathBuf,
        name: &str,
    ) -> usize {
        let id = self.modules.len();
        let module = Module {
            file,
            parent,
            child_dir: dir,
            children: BTreeMap::new(),
            bindings: BTreeMap::new(),
            globs: Vec::new(),
            macros: BTreeSet::new(),
        };
        self.modules.push(module);
        if let Some(parent) = parent {
            self.modules[parent].children.insert(name.to_string(), id);
        }
        id
    }

    /// Reads one file's items into `top` and its inline modules; returns the modules it
    /// declares in other files, still to be read.
    fn scan(&mut self, top: usize, source: &str, read: Reader) -> Vec<usize> {
        let blanked = blank(source);
        let mut file = FileScan::new(source, &blanked.code, top);
        let mut declared = Vec::new();
        while file.pos < file.tokens.len() {
            self.step(&mut file, read, &mut declared);
        }
        let lines = blanked.has_code.iter().zip(&file.in_test);
        let count = lines.filter(|&(&code, &test)| code && !test).count();
        self.code_lines
            .insert(self.modules[top].file.clone(), count);
        declared
    }

    /// Reads the token at `file.pos` and whatever it starts.
    fn step(&mut self, file: &mut FileScan, read: Reader, declared: &mut Vec<usize>) {
        let module = file.module();
        let (here, next) = (file.text(0), file.text(1));
        match here {
            "#" if matches!(next, "[" | "!") => return file.attribute(),
            _ if file.attrs.test => return self.skip_test_item(file, module, read),
            "mod" if file.text(2) == ";" => {
                declared.push(self.declare_file_module(file, module, read))
            }
            "mod" if file.text(2) == "{" => self.open_inline_module(file, module),
            "use" => return self.read_use(file, module),
            "macro_rules" if next == "!" => self.define_macro(file, module),
            "{" => file.depth += 1,
            "}" => file.close_brace(),
            word if is_word(word) && file.text_before() != "::" => {
                return self.read_path(file, module);
            }
            _ => {}
        }
        if matches!(here, "mod" | "macro_rules" | ";" | "{" | "}") {
            file.attrs = Attrs::default();
        }
        file.pos += 1;
    }

    /// Skips an item under `#[cfg(test)]`; a `mod name;` there makes its file test-only.
    fn skip_test_item(&mut self, file: &mut FileScan, module: usize, read: Reader) {
        let end = item_end(&file.tokens, file.pos).max(file.pos + 1);
        let first = file.attrs.first_line.unwrap_or(file.tokens[file.pos].line);
        file.in_test[first - 1..file.tokens[end - 1].line].fill(true);
        if let Some(name) = declared_module(&file.tokens[file.pos..end]) {
            let path = self.child_file(module, name, file.attrs.path.as_deref(), read);
            self.test_only.extend(test_only_paths(&path));
        }
        (file.pos, file.attrs) = (end, Attrs::default());
    }

    fn declare_file_module(&mut self, file: &FileScan, module: usize, read: Reader) -> usize {
        let name = file.text(1);
        let path = self.child_file(module, name, file.attrs.path.as_deref(), read);
        let dir = child_dir_of(&path);
        self.add_module(path, Some(module), dir, name)
    }

    /// `mod name {`: the module is open until the matching `}`.
    fn open_inline_module(&mut self, file: &mut FileScan, module: usize) {
        let name = file.text(1);
        let path = self.modules[module].file.clone();
        let dir = self.modules[module].child_dir.join(name);
        file.depth += 1;
        file.scopes
            .push((self.add_module(path, Some(module), dir, name), file.depth));
        file.pos += 2;
    }

    fn read_use(&mut self, file: &mut FileScan, module: usize) {
        let (leaves, end) = parse_use(&file.tokens, file.pos + 1);
        self.add_uses(module, leaves, is_reexport(&file.tokens, file.pos));
        (file.pos, file.attrs) = (end, Attrs::default());
    }

    fn define_macro(&mut self, file: &mut FileScan, module: usize) {
        let name = file.text(2).to_string();
        file.macro_body_end = matching_close(&file.tokens, file.pos + 3);
        if file.attrs.macro_export {
            self.exported_macros.insert(name, module);
        } else {
            self.modules[module].macros.insert(name);
        }
    }

    /// A path in code. Inside a `macro_rules!` body only `crate::`/`$crate::` paths count:
    /// relative ones are resolved where the macro is called, which its call's edge covers.
    fn read_path(&mut self, file: &mut FileScan, module: usize) {
        let absolute = matches!(file.text(0), "crate" | "$crate");
        file.pos = match file.pos < file.macro_body_end && !absolute {
            true => file.pos + 1,
            false => self.add_reference(module, &file.tokens, file.pos),
        };
    }

    /// Records `a::b::c` (or `name!(…)`) starting at the word at `pos`; returns where it ends.
    fn add_reference(&mut self, module: usize, tokens: &[Token], mut pos: usize) -> usize {
        let line = tokens[pos].line;
        let mut path = vec![tokens[pos].text.to_string()];
        while text(tokens, pos + 1) == "::" && is_word(text(tokens, pos + 2)) {
            path.push(tokens[pos + 2].text.to_string());
            pos += 2;
        }
        let called =
            text(tokens, pos + 1) == "!" && matches!(text(tokens, pos + 2), "(" | "[" | "{");
        let bare_macro = path.len() == 1 && called;
        if path.len() > 1 || bare_macro {
            self.references.push(Reference {
                module,
                line,
                path,
                bare_macro,
            });
        }
        pos + 1
    }

    /// Binds what a `use` brings in; a plain `use` is also an import, a re-export is one only
    /// if [`REEXPORTS_ARE_IMPORTS`].
    fn add_uses(&mut self, module: usize, leaves: Vec<UseLeaf>, reexport: bool) {
        for leaf in leaves {
            let here = &mut self.modules[module];
            match leaf.binds.as_deref() {
                Some("*") => here.globs.push(leaf.path.clone()),
                Some(name) => drop(here.bindings.insert(name.to_string(), leaf.path.clone())),
                None => {}
            }
            if reexport && !REEXPORTS_ARE_IMPORTS {
                continue;
            }
            let (line, path) = (leaf.line, leaf.path);
            self.references.push(Reference {
                module,
                line,
                path,
                bare_macro: false,
            });
        }
    }

    /// The file of `mod name;` declared in `module`: `#[path]` if given, else `name.rs` or
    /// `name/mod.rs` in the module's directory.
    fn child_file(&self, module: usize, name: &str, path: Option<&str>, read: Reader) -> String {
        let here = &self.modules[module];
        let in_file = here
            .parent
            .is_none_or(|p| self.modules[p].file != here.file);
        let file = match path {
            Some(path) if in_file => Path::new(&here.file)
                .parent()
                .unwrap_or(Path::new(""))
                .join(path),
            Some(path) => here.child_dir.join(path),
            None => here.child_dir.join(format!("{name}.rs")),
        };
        let file = file.to_string_lossy().replace('\\', "/");
        match read(&file) {
            None if path.is_none() => format!("{}/mod.rs", &file[..file.len() - 3]),
            _ => file,
        }
    }

    fn resolve_reference(&self, reference: &Reference) -> Place {
        if reference.bare_macro {
            return self.bare_macro(reference.module, &reference.path[0]);
        }
        self.resolve(reference.module, &reference.path, 0)
    }

    /// Walks `path` from `module`: into child modules, through `use`s (resolved where they
    /// are written), until a name defined in a module's file.
    fn resolve(&self, module: usize, path: &[String], hops: usize) -> Place {
        let mut current = module;
        for (index, segment) in path.iter().enumerate() {
            match segment.as_str() {
                "crate" | "$crate" if index == 0 => current = 0,
                "self" => {}
                "super" => current = self.modules[current].parent.unwrap_or(0),
                name => match self.lookup(current, name, hops) {
                    Some(Place::Module(found)) => current = found,
                    Some(place) => return place,
                    None if index == 0 && EXTERNAL_CRATES.contains(&name) => {
                        return Place::External;
                    }
                    None => return Place::Item(self.modules[current].file.clone()),
                },
            }
        }
        Place::Module(current)
    }

    /// What `name` means in `module`, if something there names it: a child module, a `use`
    /// (followed), an exported macro at the root, or a glob import's target.
    fn lookup(&self, module: usize, name: &str, hops: usize) -> Option<Place> {
        let here = &self.modules[module];
        if hops > MAX_HOPS {
            return Some(Place::Item(here.file.clone()));
        }
        if let Some(&child) = here.children.get(name) {
            return Some(Place::Module(child));
        }
        if let Some(target) = here.bindings.get(name) {
            return Some(self.resolve(module, target, hops + 1));
        }
        if let (0, Some(&defined)) = (module, self.exported_macros.get(name)) {
            return Some(Place::Item(self.modules[defined].file.clone()));
        }
        here.globs
            .iter()
            .find_map(|glob| match self.resolve(module, glob, hops + 1) {
                Place::Module(target) if target != module => self.lookup(target, name, hops + 1),
                _ => None,
            })
    }

    /// A macro called by its bare name: defined in this module or an enclosing one.
    fn bare_macro(&self, module: usize, name: &str) -> Place {
        let mut current = Some(module);
        while let Some(here) = current {
            if self.modules[here].macros.contains(name) {
                return Place::Item(self.modules[here].file.clone());
            }
            current = self.modules[here].parent;
        }
        // A `use` of a macro (`use std::pin::pin;`) shadows one exported at the root.
        if let Some(target) = self.modules[module].bindings.get(name) {
            return self.resolve(module, target, 1);
        }
        match self.exported_macros.get(name) {
            Some(&defined) => Place::Item(self.modules[defined].file.clone()),
            None => Place::External,
        }
    }

    fn is_test_only(&self, file: &str) -> bool {
        self.test_only
            .iter()
            .any(|path| file == path || (path.ends_with('/') && file.starts_with(path.as_str())))
    }

    /// One edge per pair of files: the first line that makes it.
    fn edges(&self) -> Edges {
        let mut edges = BTreeMap::new();
        for reference in &self.references {
            let from = &self.modules[reference.module].file;
            let to = match self.resolve_reference(reference) {
                Place::Module(module) => self.modules[module].file.clone(),
                Place::Item(file) => file,
                Place::External => continue,
            };
            let shown = reference.path.join("::") + if reference.bare_macro { "!" } else { "" };
            if *from != to && !self.is_test_only(&to) {
                edges
                    .entry((from.clone(), to))
                    .or_insert((reference.line, shown));
            }
        }
        edges
    }
}

/// Whether the `use` at `pos` is `pub`, `pub(crate)`, `pub(super)`, … : a re-export.
fn is_reexport(tokens: &[Token], pos: usize) -> bool {
    let mut before = pos.wrapping_sub(1);
    if text(tokens, before) == ")" {
        before = tokens[..before]
            .iter()
            .rposition(|t| t.text == "(")
            .map_or(0, |open| open.wrapping_sub(1));
    }
    text(tokens, before) == "pub"
}

/// Reads one attribute at `pos` into `attrs`; returns the position after it.
fn attribute(tokens: &[Token], pos: usize, source: &str, attrs: &mut Attrs) -> usize {
    let inner = text(tokens, pos + 1) == "!";
    let open = pos + 1 + usize::from(inner);
    let close = matching_close(tokens, open);
    let words: Vec<&str> = tokens[open + 1..close].iter().map(|t| t.text).collect();
    if !inner {
        attrs.first_line.get_or_insert(tokens[pos].line);
        let cfg_test =
            words.first() == Some(&"cfg") && words.contains(&"test") && !words.contains(&"not");
        attrs.test |= cfg_test || words == ["test"];
        attrs.macro_export |= words == ["macro_export"];
        if words.starts_with(&["path", "="]) {
            let value = &source[tokens[open + 2].offset + 1..tokens[close].offset];
            attrs.path = Some(value.trim().trim_matches('"').to_string());
        }
    }
    close + 1
}

/// Where the item starting at `start` ends: after its `;` or its `{ … }` block, or before
/// the bracket that closes what encloses it.
fn item_end(tokens: &[Token], start: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(start) {
        match token.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 0 => return i,
            ")" | "]" | "}" => depth -= 1,
            ";" if depth == 0 => return i + 1,
            _ => {}
        }
        if depth == 0 && token.text == "}" {
            return i + 1;
        }
    }
    tokens.len()
}

/// The position of the bracket that closes the one at `open`.
fn matching_close(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 1 => return i,
            ")" | "]" | "}" => depth -= 1,
            _ => {}
        }
    }
    tokens.len() - 1
}

/// `mod name;` among an item's tokens.
fn declared_module<'a>(item: &[Token<'a>]) -> Option<&'a str> {
    let at = item.iter().position(|t| t.text == "mod")?;
    (text(item, at + 2) == ";").then(|| text(item, at + 1))
}

/// A test-only module's file, and its directory if it has children there.
fn test_only_paths(file: &str) -> Vec<String> {
    vec![
        file.to_string(),
        format!("{}/", child_dir_of(file).display()),
    ]
}

/// Where a file module's `mod child;` files live: beside `lib.rs`/`mod.rs`, or in `a/` for `a.rs`.
fn child_dir_of(file: &str) -> PathBuf {
    let path = Path::new(file);
    match path.file_name().and_then(|name| name.to_str()) {
        Some("lib.rs" | "mod.rs") => path.parent().unwrap_or(Path::new("")).to_path_buf(),
        _ => path.with_extension(""),
    }
}

// ---- The layer table ---------------------------------------------------------------------

struct Layer {
    number: u32,
    /// The first cell, `1 · task core`, for messages.
    name: String,
    patterns: Vec<String>,
}

/// The first `//! |` table whose header starts with `layer`: its lines (without `//! `) and
/// its layers.
fn layer_table(lib_rs: &str) -> Result<(Vec<String>, Vec<Layer>), String> {
    let lines: Vec<&str> = lib_rs.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let rows: Vec<String> = lines[i..]
            .iter()
            .take_while(|l| l.starts_with("//! |"))
            .map(|l| l[4..].to_string())
            .collect();
        i += rows.len().max(1);
        if rows
            .first()
            .is_some_and(|header| cells(header).first() == Some(&"layer"))
        {
            let layers = rows[1..]
                .iter()
                .filter(|row| !is_separator(row))
                .map(|row| layer_row(row));
            return Ok((rows.clone(), layers.collect::<Result<_, _>>()?));
        }
    }
    Err(
        "runtime/lib.rs has no layer table: its doc comment needs a `//! | layer | … |` table \
         (see this test's doc for the format)"
            .to_string(),
    )
}

fn cells(row: &str) -> Vec<&str> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

fn is_separator(row: &str) -> bool {
    row.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

fn layer_row(row: &str) -> Result<Layer, String> {
    let cells = cells(row);
    let name = cells[0].to_string();
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().map_err(|_| {
        format!("layer row `{row}`: the first cell must start with the layer's number")
    })?;
    let last = cells.last().expect("split yields a cell");
    let patterns = last
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(expand_braces)
        .collect();
    Ok(Layer {
        number,
        name,
        patterns,
    })
}

/// `task/{raw,state}.rs` → `task/raw.rs`, `task/state.rs`.
fn expand_braces(pattern: &str) -> Vec<String> {
    match (pattern.find('{'), pattern.find('}')) {
        (Some(open), Some(close)) if open < close => {
            let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
            pattern[open + 1..close]
                .split(',')
                .map(|part| format!("{head}{}{tail}", part.trim()))
                .collect()
        }
        _ => vec![pattern.to_string()],
    }
}

/// How specifically `pattern` names `file`, if at all: a file beats a directory, a deeper
/// directory beats a shallower one.
fn specificity(pattern: &str, file: &str) -> Option<(bool, usize)> {
    match pattern.strip_suffix('/') {
        Some(dir) => {
            let dir = dir.trim_start_matches('.').trim_start_matches('/');
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            file.starts_with(&prefix)
                .then(|| (false, prefix.matches('/').count()))
        }
        None => (pattern == file).then_some((true, 0)),
    }
}

/// A pattern of the table that names a file.
struct PatternMatch<'l> {
    specificity: (bool, usize),
    layer: usize,
    pattern: &'l str,
}

/// The patterns that name `file`, the most specific ones only.
fn best_matches<'l>(file: &str, layers: &'l [Layer]) -> Vec<PatternMatch<'l>> {
    let mut matches = Vec::new();
    for (layer, patterns) in layers.iter().map(|l| &l.patterns).enumerate() {
        for pattern in patterns {
            if let Some(specificity) = specificity(pattern, file) {
                matches.push(PatternMatch {
                    specificity,
                    layer,
                    pattern,
                });
            }
        }
    }
    let best = matches.iter().map(|m| m.specificity).max();
    matches.retain(|m| Some(m.specificity) == best);
    matches
}

/// Each file's layer (an index into `layers`); a file in no layer or in two equally, and a
/// pattern that names no file, are failures.
fn place(
    files: &[String],
    layers: &[Layer],
    failures: &mut Vec<String>,
) -> BTreeMap<String, usize> {
    let mut placed = BTreeMap::new();
    for file in files {
        match &best_matches(file, layers)[..] {
            [] => failures.push(format!("{file} is in no layer of runtime/lib.rs's table")),
            [only] => drop(placed.insert(file.clone(), only.layer)),
            several => {
                let named = several
                    .iter()
                    .map(|m| format!("`{}` (layer {})", m.pattern, layers[m.layer].name));
                let named: Vec<String> = named.collect();
                failures.push(format!(
                    "{file} is placed twice, equally specifically: by {}",
                    named.join(" and ")
                ));
            }
        }
    }
    for layer in layers {
        let names_no_file = |p: &&String| !files.iter().any(|f| specificity(p, f).is_some());
        for pattern in layer.patterns.iter().filter(names_no_file) {
            failures.push(format!(
                "the pattern `{pattern}` of layer {} names no file",
                layer.name
            ));
        }
    }
    placed
}

// ---- The graph ---------------------------------------------------------------------------

type Edges = BTreeMap<(String, String), (usize, String)>;

/// The groups of files that import each other around a circle: the strongly connected
/// components of more than one file, each sorted. A file is in a circle if it reaches itself.
fn circles(edges: &Edges) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let reach: BTreeMap<&str, BTreeSet<&str>> = next
        .keys()
        .map(|&file| (file, reachable(file, &next)))
        .collect();
    let (mut placed, mut found) = (BTreeSet::new(), Vec::new());
    for (&file, from_file) in &reach {
        if placed.contains(file) || !from_file.contains(file) {
            continue;
        }
        let back_to_file = |other: &&&str| reach.get(**other).is_some_and(|r| r.contains(file));
        let component: Vec<&str> = from_file.iter().filter(back_to_file).copied().collect();
        placed.extend(component.iter().copied());
        found.push(component.into_iter().map(String::from).collect());
    }
    found
}

/// The files that `start` imports, directly or through others.
fn reachable<'a>(start: &str, next: &BTreeMap<&'a str, Vec<&'a str>>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = next.get(start).cloned().unwrap_or_default();
    while let Some(file) = todo.pop() {
        if seen.insert(file) {
            todo.extend(next.get(file).into_iter().flatten());
        }
    }
    seen
}

/// The shortest circle through the component's first file, as files from and back to it.
fn one_circle(component: &[String], edges: &Edges) -> Vec<String> {
    let start = &component[0];
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for (_, to) in edges
            .keys()
            .filter(|(from, to)| from == node && component.contains(to))
        {
            if to == start {
                let mut circle = vec![start.clone(), node.clone()];
                while let Some(&back) = came_from.get(circle.last().expect("not empty")) {
                    circle.push(back.clone());
                }
                circle.reverse();
                return circle;
            }
            if to != start && !came_from.contains_key(to) {
                came_from.insert(to, node);
                queue.push_back(to);
            }
        }
    }
    unreachable!("a strongly connected component has a circle through each file")
}

fn describe_circle(component: &[String], edges: &Edges) -> String {
    let circle = one_circle(component, edges);
    let hops: Vec<String> = circle
        .windows(2)
        .map(|hop| {
            let (line, path) = &edges[&(hop[0].clone(), hop[1].clone())];
            format!("      {} line {line}: `{path}` → {}", hop[0], hop[1])
        })
        .collect();
    format!(
        "{} files import each other in a circle: {}\n    one circle among them: {}\n{}",
        component.len(),
        component.join(", "),
        circle.join(" → "),
        hops.join("\n")
    )
}

// ---- The tests ---------------------------------------------------------------------------

fn runtime_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime")
}

fn read_runtime(file: &str) -> Option<String> {
    fs::read_to_string(runtime_dir().join(file)).ok()
}

/// Every `.rs` file under `runtime/` that is compiled outside tests, sorted.
fn placed_files(model: &Model) -> Vec<String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir)
            .expect("a readable directory")
            .map(|e| e.expect("an entry").path())
        {
            if entry.is_dir() {
                walk(&entry, found);
            } else if entry.extension().is_some_and(|ext| ext == "rs") {
                found.push(entry);
            }
        }
    }
    let mut found = Vec::new();
    walk(&runtime_dir(), &mut found);
    let relative = found.iter().map(|p| {
        p.strip_prefix(runtime_dir())
            .expect("under runtime/")
            .to_string_lossy()
            .replace('\\', "/")
    });
    let mut files: Vec<String> = relative
        .filter(|f| !f.starts_with("loom_models/") && !model.is_test_only(f))
        .collect();
    files.sort();
    files
}

/// The rows of the layer table that `README.md` does not show verbatim.
fn rows_missing_from_readme(rows: &[String]) -> Vec<String> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = fs::read_to_string(readme).expect("README.md");
    let lines: BTreeSet<&str> = readme.lines().map(str::trim_end).collect();
    let missing = rows.iter().filter(|row| !lines.contains(row.trim_end()));
    missing
        .map(|row| format!("README.md lacks this row of runtime/lib.rs's layer table: {row}"))
        .collect()
}

/// The edges that lead from a file to one in a higher layer.
fn upward_imports(
    edges: &Edges,
    placed: &BTreeMap<String, usize>,
    layers: &[Layer],
) -> Vec<String> {
    let mut found = Vec::new();
    for ((from, to), (line, path)) in edges {
        let (Some(&a), Some(&b)) = (placed.get(from), placed.get(to)) else {
            continue; // an unplaced file is a failure of its own
        };
        if layers[b].number > layers[a].number {
            let (a, b) = (&layers[a].name, &layers[b].name);
            found.push(format!(
                "{from} (layer {a}) imports {to} (layer {b}) at line {line}: `{path}`"
            ));
        }
    }
    found
}

#[test]
fn runtime_imports_go_only_down_the_layers_and_never_in_a_circle() {
    let lib_rs = read_runtime("lib.rs").expect("runtime/lib.rs");
    let (rows, layers) = layer_table(&lib_rs).unwrap_or_else(|problem| panic!("{problem}"));
    let model = Model::load(&read_runtime);
    let mut failures = Vec::new();

    failures.extend(rows_missing_from_readme(&rows));
    let placed = place(&placed_files(&model), &layers, &mut failures);
    let edges = model.edges();
    if std::env::var_os("LAYERS_EDGES").is_some() {
        for ((from, to), (line, path)) in &edges {
            eprintln!("{from} → {to}  (line {line}: `{path}`)");
        }
    }
    failures.extend(upward_imports(&edges, &placed, &layers));
    let circles = circles(&edges);
    failures.extend(circles.iter().map(|group| describe_circle(group, &edges)));

    assert!(
        failures.is_empty(),
        "the layers of runtime/ are broken ({} problem(s)):\n\n{}\n",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Prints the code lines (non-blank, non-comment, outside test items) and files per layer.
#[test]
fn code_lines_per_layer_are_printed() {
    let lib_rs = read_runtime("lib.rs").expect("runtime/lib.rs");
    let Ok((_, layers)) = layer_table(&lib_rs) else {
        return eprintln!("no layer table in runtime/lib.rs: nothing to count");
    };
    let model = Model::load(&read_runtime);
    let placed = place(&placed_files(&model), &layers, &mut Vec::new());
    let mut per_layer = vec![(0, 0); layers.len()];
    for (file, &layer) in &placed {
        per_layer[layer].0 += 1;
        per_layer[layer].1 += model.code_lines.get(file).copied().unwrap_or(0);
    }
    eprintln!("| layer | files | code lines |\n|---|---:|---:|");
    for (layer, (files, lines)) in layers.iter().zip(&per_layer) {
        eprintln!("| {} | {files} | {lines} |", layer.name);
    }
    let (files, lines) = per_layer
        .iter()
        .fold((0, 0), |(f, l), (a, b)| (f + a, l + b));
    eprintln!("| total | {files} | {lines} |");
}

/// The parts of the checker that are easy to get wrong, on small inputs.
mod checker {
    use super::*;

    fn model(files: &[(&str, &str)]) -> Model {
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(f, s)| (f.to_string(), s.to_string()))
            .collect();
        Model::load(&|file| files.get(file).cloned())
    }

    fn edge_list(model: &Model) -> Vec<(String, String)> {
        model.edges().into_keys().collect()
    }

    #[test]
    fn comments_and_literals_are_blanked_and_lines_kept() {
        let source = "a // crate::x\n/* b /* nested */ crate::y\n */ c \"crate::z // \\\" \" 'q' '\\'' &'a T\nr#\"crate::w\"# d";
        let blanked = blank(source);
        let words: Vec<(&str, usize)> = tokens(&blanked.code)
            .iter()
            .map(|t| (t.text, t.line))
            .collect();
        assert_eq!(
            words,
            [
                ("a", 1),
                ("c", 3),
                ("&", 3),
                ("'", 3),
                ("a", 3),
                ("T", 3),
                ("d", 4)
            ]
        );
        assert_eq!(blanked.has_code, [true, false, true, true]);
    }

    #[test]
    fn use_trees_are_flattened_with_their_bindings() {
        let blanked =
            blank("use super::{a, b::{C, D as E}, self as me, f::self, g::*};\nuse ::x::Y as _;");
        let tokens = tokens(&blanked.code);
        let (leaves, end) = parse_use(&tokens, 1);
        let seen: Vec<(String, Option<&str>)> = leaves
            .iter()
            .map(|l| (l.path.join("::"), l.binds.as_deref()))
            .collect();
        let expected = [
            ("super::a", Some("a")),
            ("super::b::C", Some("C")),
            ("super::b::D", Some("E")),
            ("super", Some("me")),
            ("super::f", Some("f")),
            ("super::g", Some("*")),
        ];
        assert_eq!(seen, expected.map(|(p, b)| (p.to_string(), b)));
        assert_eq!(text(&tokens, end), "use");
        let (leaves, _) = parse_use(&tokens, end + 1);
        assert_eq!(
            leaves,
            [UseLeaf {
                path: vec!["::".into(), "x".into(), "Y".into()],
                binds: None,
                line: 2
            }]
        );
    }

    #[test]
    fn re_exports_are_followed_to_the_defining_file() {
        let model = model(&[
            (
                "lib.rs",
                "mod a; mod facade; mod deep;\n#[cfg(test)]\nmod test_support;",
            ),
            (
                "facade.rs",
                "pub use crate::deep::Thing as Renamed;\npub use self::y as x; pub use self::x as y;",
            ),
            (
                "deep.rs",
                "pub struct Thing;\n#[macro_export] macro_rules! shout { () => {} }",
            ),
            (
                "a.rs",
                "use crate::facade::Renamed;\nfn f() { crate::facade::x::g(); crate::shout!(); std::mem::drop(1); }\n#[cfg(test)]\nmod tests { use crate::facade; }",
            ),
            ("test_support.rs", "use crate::a;"),
        ]);
        assert_eq!(
            edge_list(&model),
            [
                ("a.rs".into(), "deep.rs".into()),
                ("a.rs".into(), "facade.rs".into())
            ]
        );
        assert_eq!(
            model.edges()[&("a.rs".into(), "deep.rs".into())],
            (1, "crate::facade::Renamed".into())
        );
        assert!(model.is_test_only("test_support.rs"));
        assert_eq!(model.code_lines["a.rs"], 2);
    }

    #[test]
    fn inline_modules_child_modules_and_bare_macros_resolve() {
        let model = model(&[
            ("lib.rs", "mod m;"),
            (
                "m/mod.rs",
                "macro_rules! ends { () => { super::at_call_site::X } }\nmod leaf;\npub mod api { pub use super::leaf::Leaf; }\nfn f() { leaf::g(); }",
            ),
            (
                "m/leaf.rs",
                "ends!();\nuse super::api::Leaf as _;\npub struct Leaf;",
            ),
        ]);
        assert_eq!(
            edge_list(&model),
            [
                ("m/leaf.rs".into(), "m/mod.rs".into()),
                ("m/mod.rs".into(), "m/leaf.rs".into())
            ]
        );
        assert_eq!(
            circles(&model.edges()),
            [vec!["m/leaf.rs".to_string(), "m/mod.rs".to_string()]]
        );
    }

    #[test]
    fn an_upward_import_and_a_circle_are_named_with_line_and_path() {
        let (_, layers) = layer_table(
            "//! | layer | files |\n//! | 0 · low | `a.rs` |\n//! | 1 · high | `b.rs` |",
        )
        .expect("a table");
        let placed = BTreeMap::from([("a.rs".to_string(), 0), ("b.rs".to_string(), 1)]);
        let edges = Edges::from([
            (("a.rs".into(), "b.rs".into()), (7, "crate::b::up".into())),
            (("b.rs".into(), "a.rs".into()), (3, "crate::a::down".into())),
        ]);
        let upward = upward_imports(&edges, &placed, &layers);
        assert_eq!(
            upward,
            ["a.rs (layer 0 · low) imports b.rs (layer 1 · high) at line 7: `crate::b::up`"]
        );
        let groups = circles(&edges);
        let described = describe_circle(&groups[0], &edges);
        assert!(
            described.contains("one circle among them: a.rs → b.rs → a.rs"),
            "{described}"
        );
        assert!(
            described.contains("b.rs line 3: `crate::a::down` → a.rs"),
            "{described}"
        );
    }

    #[test]
    fn the_layer_table_places_each_file_by_its_most_specific_pattern() {
        let lib = "//! | idea | file |\n//! |---|---|\n//! | x | `y` |\n\n//! | layer | files |\n//! |---|---|\n\
                   //! | 0 · leaves | `util.rs`, `task/{raw, state}.rs` |\n//! | 1 · rest | `./`, `task/` |\n//! | 2 · twice | `util.rs` |";
        let (rows, layers) = layer_table(lib).expect("a table");
        assert_eq!(rows.len(), 5);
        assert_eq!(
            layers[0].patterns,
            ["util.rs", "task/raw.rs", "task/state.rs"]
        );
        let files = ["util.rs", "task/raw.rs", "task/join.rs", "lib.rs"].map(String::from);
        let mut failures = Vec::new();
        let placed = place(&files, &layers, &mut failures);
        assert_eq!(
            placed.into_iter().collect::<Vec<_>>(),
            [
                ("lib.rs".into(), 1),
                ("task/join.rs".into(), 1),
                ("task/raw.rs".into(), 0)
            ]
        );
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(
            failures[0].starts_with("util.rs is placed twice"),
            "{failures:?}"
        );
        assert!(
            failures[1].contains("`task/state.rs` of layer 0 · leaves names no file"),
            "{failures:?}"
        );
    }
}
