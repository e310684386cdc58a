//! `switchboard-bench`: measures the figures of the performance issue on a generated workspace,
//! each next to its baseline or target from the same run, and writes a Markdown table and JSON.
//!
//!     cargo run --release -p switchboard-bench -- [--quick] [--out bench-results] [--seed 7]
//!
//! Timings are reported, never asserted: CI runs `--quick` only to keep the harness working.

mod figures;
mod generate;
mod report;

use std::path::PathBuf;

use anyhow::Context;

struct Options {
    quick: bool,
    out: PathBuf,
    seed: u64,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options { quick: false, out: PathBuf::from("bench-results"), seed: 7 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--out" => options.out = args.next().context("--out needs a directory")?.into(),
            "--seed" => options.seed = args.next().context("--seed needs a number")?.parse()?,
            "-h" | "--help" => {
                println!("switchboard-bench [--quick] [--out DIR] [--seed N]");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let preset = if options.quick { generate::QUICK } else { generate::FULL };
    eprintln!(
        "generating {} conversations and {} messages (seed {})…",
        preset.conversations, preset.messages, options.seed
    );
    let workspace = generate::generate(preset, options.seed);
    let mut rows = Vec::new();
    rows.extend(figures::cache_figures(&workspace, options.quick)?);
    rows.extend(figures::network_figures(options.quick).await?);
    rows.extend(figures::app_figures());
    let report = report::Report::new(&rows, options.quick, preset);
    std::fs::create_dir_all(&options.out)?;
    std::fs::write(options.out.join("bench.md"), report.markdown())?;
    std::fs::write(options.out.join("bench.json"), serde_json::to_string_pretty(&report)?)?;
    println!("{}", report.markdown());
    eprintln!("written to {}", options.out.display());
    Ok(())
}
