//! `seed_corpus ROOT OUT`: for every fuzz target, the seeds of `tests/support/parser_seeds.rs`
//! read from the crate at ROOT, written to `OUT/<target>/seed-<hash>` (existing files are kept,
//! so a corpus grown by earlier runs stays). The `decimal` target gets about 2000 of the
//! number-like tokens of all the seeds. Prints how many seeds each target has.

#[path = "../../tests/support/parser_seeds.rs"]
mod parser_seeds;

use parser_seeds::{Target, seeds};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn write(dir: &Path, inputs: &[Vec<u8>]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for s in inputs {
        std::fs::write(dir.join(format!("seed-{:016x}", fnv(s))), s)?;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [root, out] = args.as_slice() else {
        eprintln!("usage: seed_corpus ROOT OUT");
        std::process::exit(2);
    };
    let mut numbers = BTreeSet::new();
    for t in Target::ALL {
        let s = seeds(root, t);
        for seed in &s {
            let number = |b: &u8| b.is_ascii_digit() || b".-+eE".contains(b);
            for tok in seed.split(|b| !number(b)) {
                if tok.iter().any(u8::is_ascii_digit) && tok.len() <= 40 {
                    numbers.insert(tok.to_vec());
                }
            }
        }
        write(&out.join(t.name()), &s)?;
        println!("{:<18} {:>5} seeds", t.name(), s.len());
    }
    // Tens of thousands of tokens (the depth sequences): every n-th, about 2000.
    let step = numbers.len().div_ceil(2000).max(1);
    let numbers: Vec<Vec<u8>> = numbers.into_iter().step_by(step).collect();
    write(&out.join("decimal"), &numbers)?;
    println!("{:<18} {:>5} seeds", "decimal", numbers.len());
    Ok(())
}
