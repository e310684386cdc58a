//! The benchmark table: figure, ours, baseline, ratio, target, pass/fail, and the machine.

use serde::Serialize;

use crate::generate::Preset;

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub figure: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: Option<f64>,
    pub target: String,
    /// `None`: not measured in this run (see `note`).
    pub pass: Option<bool>,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub machine: String,
    pub preset: String,
    pub rows: Vec<Row>,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| info.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned()))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or_else(|| "? GiB".into(), |kb| format!("{} GiB", kb / 1024 / 1024));
    format!("{cpu}, {cores} cores, {memory}")
}

impl Report {
    pub fn new(rows: &[Row], quick: bool, preset: Preset) -> Self {
        Report {
            machine: machine(),
            preset: format!(
                "{} ({} conversations, {} messages)",
                if quick { "quick" } else { "full" },
                preset.conversations,
                preset.messages
            ),
            rows: rows.to_vec(),
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("Machine: {}. Data: {}.\n\n", self.machine, self.preset);
        out.push_str("| figure | ours | baseline | ratio | target | result |\n|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let ratio = row.ratio.map_or("—".into(), |r| format!("{r:.2}×"));
            let result = match row.pass {
                Some(true) => "pass".to_owned(),
                Some(false) => "**miss**".to_owned(),
                // A comparison without a target (the encrypted cache next to the plain one).
                None if row.ratio.is_some() => format!("reported: {}", row.note),
                None => format!("not measured: {}", row.note),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                row.figure, row.ours, row.baseline, ratio, row.target, result
            ));
        }
        let notes: Vec<&Row> = self.rows.iter().filter(|r| r.pass.is_some() && !r.note.is_empty()).collect();
        if !notes.is_empty() {
            out.push('\n');
            for row in notes {
                out.push_str(&format!("- {}: {}\n", row.figure, row.note));
            }
        }
        out
    }
}
