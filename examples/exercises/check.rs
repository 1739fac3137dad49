//! The verdict every exercise prints: one line per check, then `PASS` or `FAIL`, and an
//! exit status a script can test (0 when every check passed).

use std::process::ExitCode;

/// Prints one line per check and the verdict; the exit status is 1 if any check failed.
pub fn report(results: &[(&str, Result<(), String>)]) -> ExitCode {
    let mut failed = 0;
    for (name, result) in results {
        match result {
            Ok(()) => println!("ok:   {name}"),
            Err(why) => {
                failed += 1;
                println!("FAIL: {name}: {why}");
            }
        }
    }
    if failed == 0 {
        println!("PASS");
        ExitCode::SUCCESS
    } else {
        println!("FAIL: {failed} of {} checks failed", results.len());
        ExitCode::FAILURE
    }
}
