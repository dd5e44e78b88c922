//! Development harness: train on one TSV, report accuracy on another.
#![allow(clippy::print_stdout)]

use nlu::classifier::{Classifier, TrainConfig};
use nlu::text::Segmenter;

fn read(path: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.rsplit_once('\t').map(|(t, l)| (t.to_owned(), l.to_owned())))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let train = read(&args[1]);
    let test = read(&args[2]);
    let mut cfg = TrainConfig::default();
    for kv in &args[3..] {
        let (k, v) = kv.split_once('=').unwrap();
        match k {
            "c" => cfg.svm.c = v.parse().unwrap(),
            "word" => cfg.features.word_max = v.parse().unwrap(),
            "lc" => {
                let (a, b) = v.split_once('-').unwrap();
                cfg.features.latin_char = (a.parse().unwrap(), b.parse().unwrap());
            }
            "cc" => {
                let (a, b) = v.split_once('-').unwrap();
                cfg.features.cjk_char = (a.parse().unwrap(), b.parse().unwrap());
            }
            "cw" => cfg.features.char_weight = v.parse().unwrap(),
            "stems" => cfg.features.stems = v == "1",
            "skip" => cfg.features.pair_words = v.parse().unwrap(),
            "mlp" => cfg.mlp = Some((nlu::mlp::MlpParams::default(), v.parse().unwrap())),
            "hidden" => cfg.mlp.as_mut().unwrap().0.hidden = v.parse().unwrap(),
            "epochs" => cfg.mlp.as_mut().unwrap().0.epochs = v.parse().unwrap(),
            "lr" => cfg.mlp.as_mut().unwrap().0.lr = v.parse().unwrap(),
            "rlr" => cfg.mlp.as_mut().unwrap().0.row_lr = v.parse().unwrap(),
            "drop" => cfg.mlp.as_mut().unwrap().0.dropout = v.parse().unwrap(),
            "init" => cfg.mlp.as_mut().unwrap().0.init = v.parse().unwrap(),
            "batch" => cfg.mlp.as_mut().unwrap().0.batch = v.parse().unwrap(),
            "mindf" => cfg.min_df = v.parse().unwrap(),
            "nomlp" => cfg.mlp = None,
            "folds" => cfg.folds = v.parse().unwrap(),
            "bits" => cfg.features.bits = v.parse().unwrap(),
            _ => panic!("unknown {k}"),
        }
    }
    let t0 = std::time::Instant::now();
    let seg = Segmenter::default();
    println!("jieba load {:?}", t0.elapsed());
    let ex: Vec<(&str, &str)> = train.iter().map(|(t, l)| (t.as_str(), l.as_str())).collect();
    let t0 = std::time::Instant::now();
    let m = Classifier::train(&seg, &ex, &cfg, &mut |_| {}).unwrap();
    let ens: Vec<Classifier> = std::env::var("ENS")
        .unwrap_or_default()
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|spec| {
            let mut c2 = cfg.clone();
            for kv in spec.split(',') {
                let (k, v) = kv.split_once('=').unwrap();
                match k {
                    "c" => c2.svm.c = v.parse().unwrap(),
                    "word" => c2.features.word_max = v.parse().unwrap(),
                    "skip" => c2.features.pair_words = v.parse().unwrap(),
                    "cw" => c2.features.char_weight = v.parse().unwrap(),
                    "lc" => {
                        let (a, b) = v.split_once('-').unwrap();
                        c2.features.latin_char = (a.parse().unwrap(), b.parse().unwrap());
                    }
                    "cc" => {
                        let (a, b) = v.split_once('-').unwrap();
                        c2.features.cjk_char = (a.parse().unwrap(), b.parse().unwrap());
                    }
                    _ => panic!("{k}"),
                }
            }
            Classifier::train(&seg, &ex, &c2, &mut |_| {}).unwrap()
        })
        .collect();
    println!("train {:?} report {:?} threshold {}", t0.elapsed(), m.report(), m.threshold());
    let t0 = std::time::Instant::now();
    let (mut ok, mut ok_raw, mut n_in, mut oos_ok, mut n_oos) = (0, 0, 0, 0, 0);
    for (t, l) in &test {
        let mut p = m.predict(&seg, t, 3);
        if !ens.is_empty() {
            let mut probs = m.probabilities(&seg, t);
            for e in &ens {
                for (a, b) in probs.iter_mut().zip(e.probabilities(&seg, t)) {
                    *a += b;
                }
            }
            let best = (0..probs.len()).max_by(|&a, &b| probs[a].total_cmp(&probs[b])).unwrap();
            p.top[0].label = m.labels()[best].clone();
        }
        if l == "oos" {
            n_oos += 1;
            if !p.in_scope {
                oos_ok += 1;
            }
        } else {
            n_in += 1;
            if p.top[0].label == *l {
                ok_raw += 1;
                if p.in_scope {
                    ok += 1;
                }
            }
        }
    }
    let el = t0.elapsed();
    println!(
        "raw acc {:.4}  in-scope acc w/ threshold {:.4}  oos recall {:.4}  ({} test, {:?}/msg)",
        ok_raw as f64 / n_in as f64,
        ok as f64 / n_in as f64,
        if n_oos > 0 { oos_ok as f64 / n_oos as f64 } else { f64::NAN },
        test.len(),
        el / test.len() as u32
    );
}
