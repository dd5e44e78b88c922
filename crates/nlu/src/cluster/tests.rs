//! Grouping: similar questions together, unrelated ones alone, repeats counted, deterministic.

use super::*;

fn groups(texts: &[&str], cfg: &ClusterConfig) -> Vec<Vec<String>> {
    let seg = Segmenter::default();
    cluster(&seg, texts, cfg)
        .into_iter()
        .map(|c| {
            let mut g: Vec<String> = c.members.iter().map(|&i| texts[i].to_owned()).collect();
            g.insert(0, format!("[{}]", texts[c.representative]));
            g
        })
        .collect()
}

const QUESTIONS: &[&str] = &[
    "发票抬头怎么修改",
    "会员积分什么时候过期",
    "怎么修改发票抬头",
    "发票抬头写错了能修改吗",
    "我的积分会过期吗",
    "积分多久过期",
    "How do I change the invoice title?",
    "change invoice title",
    "你们周末上班吗",
    "怎么修改发票抬头",
];

#[test]
fn same_questions_group_and_others_stay_alone() {
    let got = groups(QUESTIONS, &ClusterConfig::default());
    expect_test::expect![[r#"
        [
            [
                "[怎么修改发票抬头]",
                "发票抬头怎么修改",
                "怎么修改发票抬头",
                "发票抬头写错了能修改吗",
                "怎么修改发票抬头",
            ],
            [
                "[积分多久过期]",
                "会员积分什么时候过期",
                "我的积分会过期吗",
                "积分多久过期",
            ],
            [
                "[How do I change the invoice title?]",
                "How do I change the invoice title?",
                "change invoice title",
            ],
            [
                "[你们周末上班吗]",
                "你们周末上班吗",
            ],
        ]
    "#]]
    .assert_debug_eq(&got);
}

#[test]
fn deterministic_and_total() {
    let seg = Segmenter::default();
    let cfg = ClusterConfig::default();
    let a = cluster(&seg, QUESTIONS, &cfg);
    assert_eq!(a, cluster(&seg, QUESTIONS, &cfg));
    let mut all: Vec<usize> = a.iter().flat_map(|c| c.members.clone()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..QUESTIONS.len()).collect::<Vec<_>>(), "every question lands once");
    // Nothing to group, and text that folds to nothing, give no groups.
    assert!(cluster(&seg, &[], &cfg).is_empty());
    assert!(cluster(&seg, &["？？？", "  "], &cfg).is_empty());
    // A threshold above 1 merges only exact repeats.
    let strict = ClusterConfig { threshold: 1.5, ..cfg };
    let c = cluster(&seg, QUESTIONS, &strict);
    assert_eq!(c.len(), QUESTIONS.len() - 1);
    assert_eq!(c[0].members, [2, 9]);
}

#[test]
fn max_texts_caps_distinct_questions() {
    let seg = Segmenter::default();
    let cfg = ClusterConfig { max_texts: 2, ..ClusterConfig::default() };
    let c = cluster(&seg, QUESTIONS, &cfg);
    let all: usize = c.iter().map(|c| c.members.len()).sum();
    assert_eq!(all, 2, "only the first two distinct questions: {c:?}");
}
