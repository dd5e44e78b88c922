//! The evaluation metrics and the TSV reader.

use std::time::Duration;

use super::*;

#[test]
fn metrics() {
    let gold = ["a", "a", "b", "b", "oos"];
    let pred = ["a", "b", "b", "b", "a"];
    assert!((accuracy(&gold, &pred) - 0.6).abs() < 1e-9);
    // a: p 1/2 r 1/2 f 0.5; b: p 2/3 r 1 f 0.8; oos: 0.
    assert!((macro_f1(&gold, &pred) - (0.5 + 0.8) / 3.0).abs() < 1e-9);
    let mut lat: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
    assert_eq!(percentile_us(&mut lat, 0.5), 50.0);
    assert_eq!(percentile_us(&mut lat, 0.99), 99.0);
    assert_eq!(percentile_us(&mut [], 0.5), 0.0);
}

#[test]
fn tsv_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.tsv");
    std::fs::write(&p, "我要退款\trefund\r\n\n  \nno tab here\n").unwrap();
    let e = read_tsv(&p).unwrap_err().to_string();
    assert!(e.ends_with("x.tsv:4: no TAB; each line is text<TAB>label"), "{e}");
    std::fs::write(&p, "\n\n").unwrap();
    let e = read_tsv(&p).unwrap_err().to_string();
    assert!(e.contains("no examples"), "{e}");
    std::fs::write(&p, "a\tb\tc\n我要退款\trefund\n").unwrap();
    let rows = read_tsv(&p).unwrap();
    assert_eq!(rows, vec![("a\tb".into(), "c".into()), ("我要退款".into(), "refund".into())]);
}
