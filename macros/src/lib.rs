//! The `#[asincrono::main]` and `#[asincrono::test]` attribute macros.
//!
//! # Why these macros exist
//!
//! Rust calls `main`, and every `#[test]` function, as an ordinary synchronous
//! function. An `async fn`, however, does not run when it is called: it returns
//! a *future*, a state machine that does nothing until something polls it. So
//! `async fn main` cannot be the entry point on its own. Something has to build
//! a runtime (the part that polls futures and parks the thread while they wait)
//! and *block on* the future until it finishes. That is all these macros do.
//!
//! This:
//!
//! ```ignore
//! #[asincrono::main]
//! async fn main() -> std::io::Result<()> {
//!     serve().await
//! }
//! ```
//!
//! becomes:
//!
//! ```ignore
//! fn main() -> std::io::Result<()> {
//!     ::asincrono::runtime::Builder::new_multi_thread()
//!         .enable_all()
//!         .build()
//!         .expect("asincrono: failed to build the runtime")
//!         .block_on(async move { serve().await })
//! }
//! ```
//!
//! The original body becomes an `async move` block: a future with the same code
//! and the same output type. `block_on` returns that output, and it becomes the
//! return value of the now-synchronous function. The attributes, visibility,
//! name and return type are copied over unchanged. `#[asincrono::test]` does
//! the same rewrite and also adds `#[test]`. Its default flavor is
//! `current_thread` (as in tokio), and `worker_threads = N` adds a
//! `.worker_threads(N)` call after `new_multi_thread()`.
//!
//! The examples are marked `ignore` because this crate cannot depend on the
//! runtime it serves (the runtime depends on it), so rustdoc cannot build them
//! here.
//!
//! # Why there is no `syn` or `quote`
//!
//! Most procedural macros parse their input with `syn` and write their output
//! with `quote`. Those crates are excellent, but they are large. They would be
//! the slowest part of building this workspace on a small (2-core) machine,
//! and a reader would have to trust them instead of reading the code. These two
//! macros only need to recognise `async fn name() -> Type { body }` and a few
//! `key = value` options. That is easy to do with the compiler's own
//! [`proc_macro`] API, so this crate has **no dependencies at all** and the
//! whole thing fits in one file.
//!
//! # How a procedural macro sees code
//!
//! The compiler gives an attribute macro two [`TokenStream`]s: the tokens
//! inside the attribute's parentheses (`flavor = "multi_thread"`) and the item
//! the attribute is on. A `TokenStream` is a sequence of [`TokenTree`]s, and
//! each tree is one of four things:
//!
//! * an [`Ident`]: a name or keyword, like `async`, `fn` or `main`;
//! * a [`Punct`]: a single punctuation character, like `#`, `=`, `-` or `>`
//!   (`->` is two `Punct`s; [`Spacing::Joint`] says they touch);
//! * a [`Literal`]: `"multi_thread"`, `2`, `'x'`;
//! * a [`Group`]: a delimited sub-stream, `( ... )`, `[ ... ]` or `{ ... }`.
//!
//! Because brackets already arrive as nested `Group`s, "parsing" a function
//! signature is a walk along a flat list: attributes, visibility, `async`,
//! `fn`, the name, a `( )` group, an optional `-> Type`, and the `{ }` body.
//!
//! # Errors
//!
//! A macro that panics gives the user an unhelpful "proc macro panicked" error
//! pointing at the attribute. Instead, every problem here becomes a
//! `::core::compile_error! { "message" }` invocation whose tokens carry the
//! [`Span`] of the offending token, so the compiler underlines the user's
//! mistake itself. This code never panics.

#![deny(missing_docs)]

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Runs an `async fn main` on an asincrono runtime.
///
/// ```ignore
/// #[asincrono::main]
/// async fn main() -> std::io::Result<()> {
///     serve().await
/// }
/// ```
///
/// becomes a plain `fn main() -> std::io::Result<()>` whose body builds a
/// runtime with `::asincrono::runtime::Builder` and calls `block_on` on
/// `async move { serve().await }`. The crate documentation shows the full
/// expansion. The function keeps its attributes, visibility, name and return
/// type (any return type works). It must be `async`; only a function named
/// `main` must take no parameters (see *Methods* below).
///
/// # Options
///
/// Options are written as comma-separated `key = value` pairs, as in
/// `#[asincrono::main(flavor = "multi_thread", worker_threads = 4)]`.
///
/// * `flavor = "multi_thread"` (the default, as in tokio) builds the runtime
///   with `Builder::new_multi_thread()`. `flavor = "current_thread"` uses
///   `Builder::new_current_thread()`.
/// * `worker_threads = N` (an integer literal, at least 1) adds
///   `.worker_threads(N)`. It is only valid with `multi_thread`.
/// * `start_paused = true` adds `.start_paused(true)`: the runtime's clock
///   starts paused (see `asincrono::time::pause`). Only valid with
///   `current_thread`. `start_paused = false` is the default.
/// * `name = "…"` adds `.name("…")`: the runtime's name, as in tokio.
/// * `crate = "path"` names the crate the expansion calls, for code that
///   reaches asincrono under another name (`crate = "tokio"` when it is
///   renamed in `Cargo.toml`, or re-exported by another crate). By default
///   the expansion calls `::asincrono::runtime::Builder`.
///
/// # Methods
///
/// A function called something other than `main` may take parameters, `self`
/// included, as in tokio: it is an ordinary function whose body blocks on a
/// runtime of its own, and `async move` moves the parameters into that body.
/// A function named `main` may not, since nothing passes it arguments.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Entry::Main, args, item)
}

/// Runs an `async fn` test on its own asincrono runtime.
///
/// ```ignore
/// #[asincrono::test]
/// async fn reads_back_what_it_wrote() {
///     assert_eq!(round_trip(b"hi").await, b"hi");
/// }
/// ```
///
/// This is rewritten exactly as [`macro@main`] rewrites `main`, and
/// `#[::core::prelude::v1::test]` is added so the test harness finds the
/// function. Other attributes such as `#[should_panic]` or `#[ignore]` are
/// kept. Do not add a second `#[test]`, because this attribute already adds
/// one. Every test builds its own runtime, so tests cannot leak tasks into one
/// another.
///
/// The options are the same as for [`macro@main`], but the default flavor is
/// `"current_thread"` (as in tokio). A test that wants worker threads asks for
/// them: `#[asincrono::test(flavor = "multi_thread", worker_threads = 2)]`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Entry::Test, args, item)
}

// ---------------------------------------------------------------------------
// The driver: parse the function, parse the options, rewrite.
// ---------------------------------------------------------------------------

/// Which of the two attributes is being expanded.
#[derive(Clone, Copy)]
enum Entry {
    Main,
    Test,
}

impl Entry {
    /// How the user spells the attribute. This is used in error messages.
    fn attribute(self) -> &'static str {
        match self {
            Entry::Main => "#[asincrono::main]",
            Entry::Test => "#[asincrono::test]",
        }
    }

    /// Same defaults as tokio. A program's `main` usually wants every core,
    /// and a test usually wants to be small and deterministic.
    fn default_flavor(self) -> Flavor {
        match self {
            Entry::Main => Flavor::MultiThread,
            Entry::Test => Flavor::CurrentThread,
        }
    }
}

/// Shared body of both attributes.
fn expand(entry: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    // The function is checked first. If it is not an `async fn` with no
    // parameters, there is nothing to rewrite, so we return the error and the
    // item as it was. The rest of the crate (and an IDE) can then still find
    // the function by name. For a broken `async fn main`, rustc may add its
    // own follow-on error that `main` cannot be `async`.
    let function = match AsyncFn::parse(item.clone(), entry) {
        Ok(function) => function,
        Err(error) => return error.with(item),
    };
    match Config::parse(args, entry) {
        Ok(config) => function.rewrite(entry, &config),
        // Only the options are wrong. We still rewrite the function with the
        // default options, so the user sees exactly one error, ours, instead
        // of a second one such as "`main` function not found".
        Err(error) => error.with(function.rewrite(entry, &Config::defaults(entry))),
    }
}

// ---------------------------------------------------------------------------
// Options: `flavor = "...", worker_threads = N, start_paused = bool`.
// ---------------------------------------------------------------------------

/// Which `Builder` constructor the expansion calls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The options after they have been checked. Only what changes the expansion
/// is kept.
struct Config {
    flavor: Flavor,
    /// `crate = "path"`: the path the expansion starts from, already parsed
    /// into tokens. `None` means `::asincrono`.
    crate_path: Option<TokenStream>,
    /// `name = "…"`: the runtime's name, passed on to `Builder::name`.
    name: Option<Literal>,
    /// `Some` only with [`Flavor::MultiThread`]. The literal keeps the user's
    /// span, so a type error on it would point at their `4`, not at us.
    worker_threads: Option<Literal>,
    /// `start_paused = true`: the expansion adds `.start_paused(true)`.
    start_paused: bool,
}

impl Config {
    /// The options used when none are written.
    fn defaults(entry: Entry) -> Config {
        Config {
            flavor: entry.default_flavor(),
            crate_path: None,
            name: None,
            worker_threads: None,
            start_paused: false,
        }
    }

    /// Reads the attribute's arguments, for example
    /// `flavor = "multi_thread", worker_threads = 2`.
    ///
    /// This takes two steps. [`split_options`] cuts the stream into
    /// `key = value` pairs, and this function gives each key its meaning. The
    /// check that mixes two keys (`worker_threads` needs `multi_thread`) runs
    /// last, when all keys are known, so the order they are written in does
    /// not matter.
    fn parse(args: TokenStream, entry: Entry) -> Result<Config, Error> {
        let mut flavor: Option<Flavor> = None;
        let mut worker_threads: Option<(Ident, Literal)> = None;
        let mut start_paused: Option<(Ident, bool)> = None;
        let mut crate_path: Option<TokenStream> = None;
        let mut name: Option<Literal> = None;

        for option in split_options(args)? {
            let key = option.key.to_string();
            let already_set = match key.as_str() {
                "flavor" => flavor.is_some(),
                "worker_threads" => worker_threads.is_some(),
                "start_paused" => start_paused.is_some(),
                "crate" => crate_path.is_some(),
                "name" => name.is_some(),
                _ => false,
            };
            if already_set {
                return Err(Error::new(
                    option.key.span(),
                    format!("`{key}` is given more than once"),
                ));
            }
            match key.as_str() {
                "flavor" => flavor = Some(parse_flavor(&option)?),
                "worker_threads" => {
                    worker_threads = Some((option.key.clone(), parse_worker_threads(&option)?));
                }
                "start_paused" => {
                    start_paused = Some((option.key.clone(), parse_start_paused(&option)?));
                }
                "crate" => crate_path = Some(parse_crate_path(&option)?),
                "name" => name = Some(parse_name(&option)?),
                _ => {
                    return Err(Error::new(
                        option.key.span(),
                        format!(
                            "unknown option `{key}` for {}: expected `flavor`, \
                             `worker_threads`, `start_paused`, `name` or `crate`",
                            entry.attribute()
                        ),
                    ));
                }
            }
        }

        let explicit_flavor = flavor.is_some();
        let flavor = flavor.unwrap_or(entry.default_flavor());
        let worker_threads = match worker_threads {
            Some((key, _)) if flavor == Flavor::CurrentThread => {
                // A current-thread runtime runs everything on the thread that
                // called `block_on`, so there are no workers to count.
                let why = if explicit_flavor {
                    "the current-thread runtime has no worker threads".to_string()
                } else {
                    format!(
                        "{} defaults to `flavor = \"current_thread\"`",
                        entry.attribute()
                    )
                };
                return Err(Error::new(
                    key.span(),
                    format!(
                        "`worker_threads` needs `flavor = \"multi_thread\"`: {why}. \
                         Add `flavor = \"multi_thread\"` or remove `worker_threads`"
                    ),
                ));
            }
            Some((_, count)) => Some(count),
            None => None,
        };
        let start_paused = match start_paused {
            Some((key, true)) if flavor == Flavor::MultiThread => {
                // Auto-advance needs the one scheduler thread to be idle; with several
                // workers there is no such single moment (tokio has the same rule).
                return Err(Error::new(
                    key.span(),
                    "`start_paused = true` needs `flavor = \"current_thread\"`: only a \
                     current-thread runtime can pause its clock",
                ));
            }
            Some((_, paused)) => paused,
            None => false,
        };
        Ok(Config {
            flavor,
            crate_path,
            name,
            worker_threads,
            start_paused,
        })
    }
}

/// One `key = value` pair, before its value is understood.
struct RawOption {
    key: Ident,
    /// The `=`. If the value is missing, the error points here.
    eq: Punct,
    /// Every token between `=` and the next `,`. A valid value is exactly one
    /// token, but we collect all of them so that, for example,
    /// `worker_threads = -1` gets a message about `worker_threads` instead of a
    /// confusing "expected `,`".
    value: Vec<TokenTree>,
}

impl RawOption {
    /// The value as a single token, or an error that says what was expected.
    fn single_value(&self, expected: &str) -> Result<TokenTree, Error> {
        match self.value.as_slice() {
            [value] => Ok(unwrap_invisible_group(value.clone())),
            [] => Err(Error::new(
                self.eq.span(),
                format!("missing value: write `{} = {expected}`", self.key),
            )),
            [first, ..] => Err(Error::new(
                first.span(),
                format!("`{}` expects {expected}", self.key),
            )),
        }
    }
}

/// Cuts the argument stream into `key = value` pairs separated by commas. A
/// trailing comma is allowed.
fn split_options(args: TokenStream) -> Result<Vec<RawOption>, Error> {
    let mut tokens = args.into_iter().peekable();
    let mut options = Vec::new();
    while let Some(first) = tokens.next() {
        let key = match first {
            TokenTree::Ident(key) => key,
            other => {
                return Err(Error::new(
                    other.span(),
                    "expected an option name such as `flavor`",
                ));
            }
        };
        let eq = match tokens.next() {
            Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => eq,
            Some(other) => {
                return Err(Error::new(
                    other.span(),
                    format!("expected `=` after `{key}`"),
                ));
            }
            None => {
                return Err(Error::new(
                    key.span(),
                    format!("expected `{key} = <value>`"),
                ));
            }
        };
        let mut value = Vec::new();
        // Take tokens up to the next top-level comma. A comma inside a group
        // would be inside that `Group`, so it cannot end the value early.
        while let Some(token) = tokens.next_if(|t| !is_punct(t, ',')) {
            value.push(token);
        }
        tokens.next(); // the `,`, if there is one
        options.push(RawOption { key, eq, value });
    }
    Ok(options)
}

/// `flavor = "current_thread"` or `flavor = "multi_thread"`.
fn parse_flavor(option: &RawOption) -> Result<Flavor, Error> {
    const EXPECTED: &str = "\"current_thread\" or \"multi_thread\"";
    let value = option.single_value(EXPECTED)?;
    // `Literal::to_string` gives the source text, quotes included.
    match value.to_string().as_str() {
        "\"current_thread\"" => Ok(Flavor::CurrentThread),
        "\"multi_thread\"" => Ok(Flavor::MultiThread),
        other => Err(Error::new(
            value.span(),
            format!("unknown flavor `{other}`: expected {EXPECTED} (with the quotes)"),
        )),
    }
}

/// `worker_threads = N`, where `N` is an integer literal of at least 1.
///
/// The number is checked here so a mistake is reported where it is written,
/// not later as a runtime panic inside `Builder::worker_threads`.
fn parse_worker_threads(option: &RawOption) -> Result<Literal, Error> {
    const EXPECTED: &str = "a positive integer literal such as `4`";
    let value = option.single_value(EXPECTED)?;
    let count = match &value {
        TokenTree::Literal(literal) => parse_integer(&literal.to_string()),
        _ => None,
    };
    match count {
        Some(0) => Err(Error::new(
            value.span(),
            "`worker_threads` must be at least 1",
        )),
        Some(count) => {
            // We emit a fresh, unsuffixed literal, so `2u8` still calls
            // `worker_threads(2)`, whatever integer type the builder takes.
            let mut literal = Literal::usize_unsuffixed(count);
            literal.set_span(value.span());
            Ok(literal)
        }
        None => Err(Error::new(
            value.span(),
            format!("`worker_threads` expects {EXPECTED}"),
        )),
    }
}

/// The type suffixes an integer literal may carry, as in `8usize`.
const INTEGER_SUFFIXES: [&str; 12] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

/// Reads the source text of an integer literal, like `4`, `1_000` or `8usize`.
/// Returns `None` for anything else, such as `4.0`, `"4"` or `0x4`.
fn parse_integer(text: &str) -> Option<usize> {
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let known_suffix = suffix.is_empty() || INTEGER_SUFFIXES.contains(&suffix);
    if !known_suffix || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    digits.replace('_', "").parse().ok()
}

/// The text of a string literal, without its quotes, if `token` is a plain
/// `"…"` literal with no escapes to undo (raw strings and byte strings are
/// refused).
fn plain_string(token: &TokenTree) -> Option<String> {
    let TokenTree::Literal(literal) = token else {
        return None;
    };
    let text = literal.to_string();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then(|| inner.to_string())
}

/// `crate = "path"`, such as `"tokio"` or `"::my_crate::rt"`: a path made of
/// identifiers and `::`, which the expansion then starts from.
fn parse_crate_path(option: &RawOption) -> Result<TokenStream, Error> {
    const EXPECTED: &str = "a path in quotes, such as `\"asincrono\"`";
    let value = option.single_value(EXPECTED)?;
    let text = plain_string(&value)
        .ok_or_else(|| Error::new(value.span(), format!("`crate` expects {EXPECTED}")))?;
    let body = text.strip_prefix("::").unwrap_or(&text);
    let segments: Vec<&str> = body.split("::").collect();
    let is_identifier = |segment: &&str| {
        segment.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && segment.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    if !segments.iter().all(is_identifier) {
        return Err(Error::new(
            value.span(),
            format!("`crate = {text:?}` is not a path: expected names joined by `::`"),
        ));
    }
    let mut tokens = TokenStream::new();
    for (index, segment) in segments.iter().enumerate() {
        if index > 0 || text.starts_with("::") {
            tokens.extend([
                TokenTree::Punct(Punct::new(':', Spacing::Joint)),
                punct(':'),
            ]);
        }
        tokens.extend([TokenTree::Ident(Ident::new(segment, value.span()))]);
    }
    Ok(tokens)
}

/// `name = "…"`: any string literal, handed to `Builder::name` as written.
fn parse_name(option: &RawOption) -> Result<Literal, Error> {
    let value = option.single_value("a string such as `\"server\"`")?;
    match value {
        TokenTree::Literal(literal) if literal.to_string().ends_with('"') => Ok(literal),
        other => Err(Error::new(
            other.span(),
            "`name` expects a string such as `\"server\"`",
        )),
    }
}

/// `start_paused = true | false`: whether the runtime's clock starts paused
/// (time then moves only when every task is idle, which makes timer tests
/// instant and deterministic).
fn parse_start_paused(option: &RawOption) -> Result<bool, Error> {
    let value = option.single_value("`true` or `false`")?;
    match value.to_string().as_str() {
        "false" => Ok(false),
        "true" => Ok(true),
        _ => Err(Error::new(
            value.span(),
            "`start_paused` expects `true` or `false`",
        )),
    }
}

// ---------------------------------------------------------------------------
// The function: recognise `async fn name() -> Type { body }` and rewrite it.
// ---------------------------------------------------------------------------

/// The pieces of the annotated function that the rewrite keeps. They are kept
/// as the user's own tokens, so spans (and error messages about them) still
/// point into the user's file.
struct AsyncFn {
    /// Every `#[...]` on the function, as `#` and `[...]` token pairs, in the
    /// order they were written. Doc comments arrive here as `#[doc = "..."]`.
    attributes: Vec<TokenTree>,
    /// `pub`, `pub(crate)`, ..., or nothing at all.
    visibility: Vec<TokenTree>,
    /// The `fn` keyword. The `async` before it is dropped.
    fn_token: Ident,
    name: Ident,
    /// The parameter list: `()` for `main` and tests, anything for another
    /// function (`(self)`, say).
    params: Group,
    /// `-> Type`, arrow included, or nothing when the function returns `()`.
    output: Vec<TokenTree>,
    /// `{ ... }`, the original body.
    body: Group,
}

impl AsyncFn {
    /// Walks the item's tokens in the order Rust writes them:
    /// `#[attrs] pub async fn name() -> Type { body }`.
    fn parse(item: TokenStream, entry: Entry) -> Result<AsyncFn, Error> {
        let mut tokens = item.into_iter().peekable();

        let attributes = take_attributes(&mut tokens, entry)?;
        let visibility = take_visibility(&mut tokens);
        let fn_token = take_async_fn(&mut tokens, entry)?;

        let name = match tokens.next() {
            Some(TokenTree::Ident(name)) => name,
            other => {
                return Err(Error::new(
                    span_or(other.as_ref(), fn_token.span()),
                    "expected the function's name after `fn`",
                ));
            }
        };

        let params = match tokens.next() {
            Some(TokenTree::Group(params)) if params.delimiter() == Delimiter::Parenthesis => {
                params
            }
            Some(TokenTree::Punct(angle)) if angle.as_char() == '<' => {
                return Err(Error::new(
                    angle.span(),
                    format!(
                        "{} functions cannot be generic: nothing calls them that \
                         could choose the generic parameters",
                        entry.attribute()
                    ),
                ));
            }
            other => {
                return Err(Error::new(
                    span_or(other.as_ref(), name.span()),
                    "expected `(` after the function's name",
                ));
            }
        };
        // `main` and tests are called by the program's start-up code and the
        // test harness, and neither of them passes arguments. Any other
        // function (a method taking `self`, say) is called by the user's own
        // code, which does.
        let called_without_arguments = matches!(entry, Entry::Test) || name.to_string() == "main";
        if called_without_arguments && !params.stream().is_empty() {
            return Err(Error::new(
                params.span(),
                format!(
                    "{} functions cannot take parameters: nothing passes them any arguments",
                    entry.attribute()
                ),
            ));
        }

        // The body is the last token. Everything between `()` and it is the
        // optional `-> Type`. Taking the body from the end means we never have
        // to understand the return type, which can contain braces of its own,
        // as in `Foo<{ N }>`.
        let rest: Vec<TokenTree> = tokens.collect();
        let (body, output) = match rest.split_last() {
            Some((TokenTree::Group(body), output)) if body.delimiter() == Delimiter::Brace => {
                (body.clone(), output.to_vec())
            }
            Some((last, _)) => {
                return Err(Error::new(
                    last.span(),
                    "expected the function body `{ ... }`",
                ));
            }
            None => {
                return Err(Error::new(
                    params.span(),
                    "expected the function body `{ ... }`",
                ));
            }
        };
        check_output(&output, entry)?;

        Ok(AsyncFn {
            attributes,
            visibility,
            fn_token,
            name,
            params,
            output,
            body,
        })
    }

    /// Builds the plain function:
    ///
    /// ```ignore
    /// #[::core::prelude::v1::test]   // only for #[asincrono::test]
    /// #[attrs] pub fn name() -> Type {
    ///     ::asincrono::runtime::Builder::new_multi_thread()
    ///         .worker_threads(N)     // only when asked for
    ///         .enable_all()
    ///         .build()
    ///         .expect("asincrono: failed to build the runtime")
    ///         .block_on(async move { body })
    /// }
    /// ```
    ///
    /// The runtime call is the body's tail expression, so its value is the
    /// return value. There is no `return` (which clippy would flag as needless)
    /// and no `let` (which it would flag as let-and-return).
    fn rewrite(self, entry: Entry, config: &Config) -> TokenStream {
        let mut out = TokenStream::new();
        if let Entry::Test = entry {
            // The full path, so a user's own item named `test` cannot get in
            // the way.
            let path = path(&["core", "prelude", "v1", "test"]);
            out.extend([
                punct('#'),
                TokenTree::Group(Group::new(Delimiter::Bracket, path)),
            ]);
        }
        out.extend(self.attributes);
        out.extend(self.visibility);
        out.extend([
            TokenTree::Ident(self.fn_token),
            TokenTree::Ident(self.name),
            TokenTree::Group(self.params),
        ]);
        out.extend(self.output);

        let body_span = self.body.span();
        let mut body = Group::new(Delimiter::Brace, block_on(config, self.body));
        // The new braces sit where the old ones were, so errors about the body
        // as a whole (such as a wrong return value) point at the user's body.
        body.set_span(body_span);
        out.extend([TokenTree::Group(body)]);
        out
    }
}

/// Takes the outer attributes, `#` followed by a `[...]` group, off the
/// front.
fn take_attributes(
    tokens: &mut std::iter::Peekable<proc_macro::token_stream::IntoIter>,
    entry: Entry,
) -> Result<Vec<TokenTree>, Error> {
    let mut attributes = Vec::new();
    while let Some(hash) = tokens.next_if(|t| is_punct(t, '#')) {
        let group = match tokens.next() {
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Bracket => group,
            other => {
                return Err(Error::new(
                    span_or(other.as_ref(), hash.span()),
                    "expected `[` after `#`",
                ));
            }
        };
        // `#[asincrono::test] #[test] async fn ...` would register the test
        // twice, since we add `#[test]` ourselves. Say so plainly.
        if let Entry::Test = entry {
            if group.stream().to_string() == "test" {
                return Err(Error::new(
                    group.span(),
                    "`#[asincrono::test]` already adds `#[test]`: remove this one",
                ));
            }
        }
        attributes.push(hash);
        attributes.push(TokenTree::Group(group));
    }
    Ok(attributes)
}

/// Takes `pub` or `pub(...)`, if present.
fn take_visibility(
    tokens: &mut std::iter::Peekable<proc_macro::token_stream::IntoIter>,
) -> Vec<TokenTree> {
    let mut visibility = Vec::new();
    if let Some(pub_token) = tokens.next_if(|t| is_ident(t, "pub")) {
        visibility.push(pub_token);
        if let Some(scope) = tokens.next_if(
            |t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis),
        ) {
            visibility.push(scope);
        }
    }
    visibility
}

/// Takes `async fn` and returns the `fn` token. Every other qualifier is
/// refused: a `const`, `unsafe` or `extern` entry point does not make sense
/// here, and a function without `async` does not need a runtime.
fn take_async_fn(
    tokens: &mut std::iter::Peekable<proc_macro::token_stream::IntoIter>,
    entry: Entry,
) -> Result<Ident, Error> {
    let mut is_async = false;
    loop {
        let word = match tokens.next() {
            Some(TokenTree::Ident(word)) => word,
            other => {
                return Err(Error::new(
                    span_or(other.as_ref(), Span::call_site()),
                    format!("{} can only be applied to an `async fn`", entry.attribute()),
                ));
            }
        };
        match word.to_string().as_str() {
            "async" => is_async = true,
            "fn" if is_async => return Ok(word),
            "fn" => {
                return Err(Error::new(
                    word.span(),
                    format!(
                        "the `async` keyword is missing: {} turns an `async fn` into a \
                         plain `fn`, so write `async fn`",
                        entry.attribute()
                    ),
                ));
            }
            qualifier @ ("const" | "unsafe" | "extern" | "safe" | "default") => {
                return Err(Error::new(
                    word.span(),
                    format!(
                        "{} does not support `{qualifier}` functions: write a plain `async fn`",
                        entry.attribute()
                    ),
                ));
            }
            _ => {
                return Err(Error::new(
                    word.span(),
                    format!("{} can only be applied to an `async fn`", entry.attribute()),
                ));
            }
        }
    }
}

/// Checks the tokens between `()` and the body. They must be empty (the
/// function returns `()`) or `-> Type`. The return type is copied over
/// unchanged, whatever it is. `where` clauses are refused because they only
/// make sense with generic parameters, and those are refused already.
fn check_output(output: &[TokenTree], entry: Entry) -> Result<(), Error> {
    if let Some(where_token) = output.iter().find(|t| is_ident(t, "where")) {
        return Err(Error::new(
            where_token.span(),
            format!(
                "{} functions cannot have a `where` clause",
                entry.attribute()
            ),
        ));
    }
    match output {
        [] => Ok(()),
        [TokenTree::Punct(dash), TokenTree::Punct(angle), _, ..]
            if dash.as_char() == '-' && angle.as_char() == '>' =>
        {
            Ok(())
        }
        [first, ..] => Err(Error::new(
            first.span(),
            "expected `-> ReturnType` or the function body",
        )),
    }
}

/// The new body: build a runtime, then block on the old body as a future.
///
/// `async move { body }` turns the body into a future with the same output
/// type as the `async fn` had. `move` is there for the usual reason (the
/// future owns what it uses). With no parameters, it has nothing from outside
/// to capture anyway.
fn block_on(config: &Config, body: Group) -> TokenStream {
    let constructor = match config.flavor {
        Flavor::CurrentThread => "new_current_thread",
        Flavor::MultiThread => "new_multi_thread",
    };
    let mut tokens = match &config.crate_path {
        Some(crate_path) => crate_path.clone(),
        None => path(&["asincrono"]),
    };
    tokens.extend(path(&["runtime", "Builder", constructor]));
    tokens.extend([parens(TokenStream::new())]);
    if let Some(name) = &config.name {
        tokens.extend(method_call("name", TokenTree::Literal(name.clone()).into()));
    }
    if let Some(count) = &config.worker_threads {
        tokens.extend(method_call(
            "worker_threads",
            TokenTree::Literal(count.clone()).into(),
        ));
    }
    if config.start_paused {
        tokens.extend(method_call("start_paused", ident("true").into()));
    }
    tokens.extend(method_call("enable_all", TokenStream::new()));
    tokens.extend(method_call("build", TokenStream::new()));
    let message = Literal::string("asincrono: failed to build the runtime");
    tokens.extend(method_call("expect", TokenTree::Literal(message).into()));
    let future = TokenStream::from_iter([ident("async"), ident("move"), TokenTree::Group(body)]);
    tokens.extend(method_call("block_on", future));
    tokens
}

// ---------------------------------------------------------------------------
// Errors, and small helpers for building tokens by hand.
// ---------------------------------------------------------------------------

/// A message and the span of the token it is about.
struct Error {
    span: Span,
    message: String,
}

impl Error {
    fn new(span: Span, message: impl Into<String>) -> Error {
        Error {
            span,
            message: message.into(),
        }
    }

    /// `::core::compile_error! { "message" }`, followed by `rest`.
    ///
    /// Every token of the invocation gets the offending token's span. The
    /// compiler reports a `compile_error!` at the span of the invocation, so
    /// the error underlines the user's code and not the attribute. Braces
    /// instead of parentheses mean no `;` is needed where the invocation
    /// stands in for an item.
    fn with(self, rest: TokenStream) -> TokenStream {
        let mut message = Literal::string(&self.message);
        message.set_span(self.span);
        let mut tokens = path(&["core", "compile_error"]);
        tokens.extend([
            punct('!'),
            TokenTree::Group(Group::new(
                Delimiter::Brace,
                TokenTree::Literal(message).into(),
            )),
        ]);
        let mut out: TokenStream = tokens
            .into_iter()
            .map(|mut token| {
                token.set_span(self.span);
                token
            })
            .collect();
        out.extend(rest);
        out
    }
}

/// `::a::b::c` as tokens. In `::`, the first `:` is [`Spacing::Joint`], which
/// tells the compiler the two characters touch and form one `::` operator.
fn path(segments: &[&str]) -> TokenStream {
    let mut tokens = TokenStream::new();
    for segment in segments {
        tokens.extend([
            TokenTree::Punct(Punct::new(':', Spacing::Joint)),
            punct(':'),
            ident(segment),
        ]);
    }
    tokens
}

/// `.name(args)` as tokens.
fn method_call(name: &str, args: TokenStream) -> [TokenTree; 3] {
    [punct('.'), ident(name), parens(args)]
}

/// `(args)` as a single token tree.
fn parens(args: TokenStream) -> TokenTree {
    TokenTree::Group(Group::new(Delimiter::Parenthesis, args))
}

/// An identifier we generate. Its span is [`Span::call_site`], so it resolves
/// as if the user had written it at the attribute, which is why
/// `::asincrono::...` finds the user's dependency on `asincrono`.
fn ident(name: &str) -> TokenTree {
    TokenTree::Ident(Ident::new(name, Span::call_site()))
}

/// A single punctuation character that does not join the next one.
fn punct(ch: char) -> TokenTree {
    TokenTree::Punct(Punct::new(ch, Spacing::Alone))
}

fn is_punct(token: &TokenTree, ch: char) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == ch)
}

fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(i) if i.to_string() == name)
}

/// The span of `token`, or `fallback` when the input ended early. This lets
/// an error about a missing token point just before where it was expected.
fn span_or(token: Option<&TokenTree>, fallback: Span) -> Span {
    token.map_or(fallback, TokenTree::span)
}

/// When a `macro_rules!` macro passes one of its fragments (`$flavor:expr`)
/// on to us, the fragment arrives wrapped in an invisible group (a `Group`
/// with [`Delimiter::None`]). Unwrap it, so the value looks the same as if it
/// were written by hand.
fn unwrap_invisible_group(token: TokenTree) -> TokenTree {
    if let TokenTree::Group(group) = &token {
        if group.delimiter() == Delimiter::None {
            let mut inner = group.stream().into_iter();
            if let (Some(only), None) = (inner.next(), inner.next()) {
                return only;
            }
        }
    }
    token
}
