//! How much of the CPUs' time the host took away while a row ran: the *steal* time of a
//! virtual machine, from `/proc/stat`.
//!
//! On a shared virtual machine the hypervisor sometimes runs another guest on the cores
//! this one believes it has. The guest's kernel counts that time as steal. It matters
//! here because it does not fall on both runtimes alike: on 2026-12-04, in 20 alternating
//! child runs of multi-thread `udp_ping_pong`, asincrono's median was 0.60 s in the 12 runs
//! under 4% of steal and 1.03 s in the 8 under 7 to 21%, and tokio's 1.51 s and 1.55 s.
//! asincrono's `block_on` watches a flag on a spare core instead of sleeping at once
//! (`runtime/executor/spin_then_park.rs`), and a watch on a core the host has taken away
//! catches nothing. So each row reports its steal, and a row that ran under much of it
//! says so in its note: its ratio describes a busier machine than the others.
//!
//! The corner cut: Linux only (elsewhere the steal is unknown, and no row is flagged), and
//! for the whole row, both runtimes together: `/proc/stat` counts in ticks of 10 ms, too
//! coarse for one round of a few milliseconds.

use std::fs;

/// A row that ran under at least this share of steal says so in its note.
pub const STEAL_WORTH_NOTING: f64 = 0.05;

/// The counters of the `cpu` line of `/proc/stat`, summed over every CPU, in ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time taken by the host for other guests.
    pub steal: u64,
    /// All the time counted: user, nice, system, idle, iowait, irq, softirq and steal.
    pub total: u64,
}

/// The machine's counters now, or `None` where there is no `/proc/stat`.
pub fn now() -> Option<CpuTimes> {
    parse(&fs::read_to_string("/proc/stat").ok()?)
}

/// The counters in the text of `/proc/stat`: its first line, `cpu` and then user, nice,
/// system, idle, iowait, irq, softirq, steal (and guest times, which are already counted in
/// user and nice, so left out).
pub fn parse(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().next()?;
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let counters: Vec<u64> = fields
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if counters.len() != 8 {
        return None;
    }
    Some(CpuTimes {
        steal: counters[7],
        total: counters.iter().sum(),
    })
}

/// The share of the time between `before` and `after` that was steal; `None` if either is
/// unknown or no time was counted.
pub fn share(before: Option<CpuTimes>, after: Option<CpuTimes>) -> Option<f64> {
    let (before, after) = (before?, after?);
    let total = after.total.checked_sub(before.total)?;
    let steal = after.steal.checked_sub(before.steal)?;
    (total > 0).then(|| steal as f64 / total as f64)
}

/// A row's `note`, and after it, if the host took at least [`STEAL_WORTH_NOTING`] of the
/// CPUs' time while the row ran, how much.
pub fn noted(note: Option<String>, steal: Option<f64>) -> Option<String> {
    let Some(steal) = steal.filter(|&share| share >= STEAL_WORTH_NOTING) else {
        return note;
    };
    let taken = format!(
        "the host took {:.0}% of the CPU time (steal)",
        steal * 100.0
    );
    Some(match note {
        Some(note) => format!("{note}; {taken}"),
        None => taken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  100 5 50 800 10 2 3 30 7 0\ncpu0 50 2 25 400 5 1 1 15 3 0\n";

    #[test]
    fn the_first_line_gives_steal_and_the_total_without_guest_time() {
        let times = parse(STAT).unwrap();
        assert_eq!(times.steal, 30);
        assert_eq!(times.total, 100 + 5 + 50 + 800 + 10 + 2 + 3 + 30);
    }

    #[test]
    fn a_short_or_foreign_first_line_gives_nothing() {
        assert_eq!(parse("cpu 1 2 3\n"), None);
        assert_eq!(parse("intr 1 2 3 4 5 6 7 8\n"), None);
        assert_eq!(parse("cpu 1 2 x 4 5 6 7 8\n"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn the_share_is_steal_over_all_time_counted_in_between() {
        let before = CpuTimes {
            steal: 30,
            total: 1_000,
        };
        let after = CpuTimes {
            steal: 80,
            total: 1_500,
        };
        assert_eq!(share(Some(before), Some(after)), Some(0.1));
        assert_eq!(share(Some(before), Some(before)), None);
        assert_eq!(share(None, Some(after)), None);
        assert_eq!(share(Some(after), Some(before)), None);
    }

    #[test]
    fn much_steal_is_added_to_the_note_and_little_is_not() {
        let note = || Some("files in /dev/shm".to_string());
        assert_eq!(
            noted(note(), Some(0.12)).as_deref(),
            Some("files in /dev/shm; the host took 12% of the CPU time (steal)")
        );
        assert_eq!(
            noted(None, Some(0.05)).as_deref(),
            Some("the host took 5% of the CPU time (steal)")
        );
        assert_eq!(noted(note(), Some(0.01)), note());
        assert_eq!(noted(None, None), None);
    }

    #[test]
    fn this_machine_can_be_read_where_it_is_linux() {
        if cfg!(target_os = "linux") {
            let times = now().expect("/proc/stat");
            assert!(times.steal <= times.total);
        }
    }
}
