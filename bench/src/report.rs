//! Results as markdown tables (medians of the repeats, ratios to the first switch) and JSON.

use std::fmt::Write;

use crate::json::{obj, Json};
use crate::machine::MachineInfo;
use crate::stats::median;

/// A metric column.
#[derive(Clone, Debug)]
pub struct Column {
    /// Header.
    pub name: &'static str,
    /// Key in JSON.
    pub key: &'static str,
    /// Decimals shown; `None` for an integer with thousands separators.
    pub decimals: Option<usize>,
    /// Add a "vs first" column (this switch's median ÷ the first switch's).
    pub ratio: bool,
}

/// One switch's results in one group: metric values per repeat.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    /// One row of metric values (in column order) per successful repeat.
    pub samples: Vec<Vec<f64>>,
    /// Raw results, per successful repeat.
    pub raw: Vec<Json>,
    /// Failed repeats.
    pub errors: Vec<String>,
}

impl Cell {
    /// Median of metric `col` over the repeats.
    pub fn median(&self, col: usize) -> Option<f64> {
        let v: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| s.get(col).copied())
            .collect();
        median(&v)
    }
}

/// A group of rows (one per switch) sharing a key such as the frame size.
#[derive(Clone, Debug)]
pub struct Group {
    /// Value of the group column.
    pub key: String,
    /// One cell per switch, in switch order.
    pub cells: Vec<Cell>,
}

/// One scenario's table.
#[derive(Clone, Debug)]
pub struct Table {
    /// Section heading.
    pub title: String,
    /// Short id for JSON.
    pub id: String,
    /// Lines printed under the heading.
    pub notes: Vec<String>,
    /// Header of the group column.
    pub group_name: &'static str,
    /// Metric columns.
    pub columns: Vec<Column>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Scenario-specific data for JSON (e.g. the rate search probes).
    pub extra: Json,
}

impl Table {
    /// An empty table.
    pub fn new(id: &str, title: String, group_name: &'static str, columns: Vec<Column>) -> Self {
        Table {
            title,
            id: id.to_string(),
            notes: Vec::new(),
            group_name,
            columns,
            groups: Vec::new(),
            extra: Json::Null,
        }
    }

    /// Adds a group with `switches` empty cells; returns its index.
    pub fn add_group(&mut self, key: String, switches: usize) -> usize {
        self.groups.push(Group {
            key,
            cells: vec![Cell::default(); switches],
        });
        self.groups.len() - 1
    }
}

/// A switch as reported.
#[derive(Clone, Debug)]
pub struct SwitchInfo {
    /// Label.
    pub label: String,
    /// Template as given.
    pub template: String,
    /// Expanded command line of the run (empty if it never started).
    pub argv: Vec<String>,
    /// How it went: started/failed/exit status.
    pub status: String,
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct Report {
    /// The bench's own command line.
    pub command: String,
    /// Machine facts at the start.
    pub machine: MachineInfo,
    /// Load average at the end.
    pub loadavg_end: String,
    /// Switches, in order.
    pub switches: Vec<SwitchInfo>,
    /// Settings, as (name, value).
    pub settings: Vec<(String, String)>,
    /// Tables, in order.
    pub tables: Vec<Table>,
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let n = v.round().abs() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 && n > 0 {
        out.insert(0, '-');
    }
    out
}

fn fmt_value(v: Option<f64>, decimals: Option<usize>) -> String {
    match (v, decimals) {
        (Some(v), _) if !v.is_finite() => "—".into(),
        (Some(v), None) => thousands(v),
        (Some(v), Some(d)) => format!("{v:.d$}"),
        (None, _) => "—".into(),
    }
}

/// `value / first`, formatted; "—" when undefined.
pub fn fmt_ratio(value: Option<f64>, first: Option<f64>) -> String {
    match (value, first) {
        (Some(v), Some(f)) if v.is_finite() && f.is_finite() && f != 0.0 => format!("{:.2}", v / f),
        _ => "—".into(),
    }
}

pub use flowlab_guests::uml::agent::shell_join;

impl Table {
    /// Renders the table as markdown.
    pub fn markdown(&self, labels: &[String]) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "### {}\n", self.title);
        for n in &self.notes {
            let _ = writeln!(out, "{n}  ");
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        let mut header = format!("| switch | {} |", self.group_name);
        let mut rule = String::from("|---|---:|");
        for c in &self.columns {
            let _ = write!(header, " {} |", c.name);
            rule.push_str("---:|");
            if c.ratio {
                header.push_str(" vs first |");
                rule.push_str("---:|");
            }
        }
        header.push_str(" runs |");
        rule.push_str("---:|");
        let _ = writeln!(out, "{header}\n{rule}");
        for g in &self.groups {
            for (i, cell) in g.cells.iter().enumerate() {
                let label = labels.get(i).map(String::as_str).unwrap_or("?");
                let _ = write!(out, "| {label} | {} |", g.key);
                for (ci, c) in self.columns.iter().enumerate() {
                    let v = cell.median(ci);
                    let _ = write!(out, " {} |", fmt_value(v, c.decimals));
                    if c.ratio {
                        let first = g.cells.first().and_then(|f| f.median(ci));
                        let _ = write!(out, " {} |", fmt_ratio(v, first));
                    }
                }
                let runs = if cell.errors.is_empty() {
                    format!("{}", cell.samples.len())
                } else {
                    format!("{} ({} failed)", cell.samples.len(), cell.errors.len())
                };
                let _ = writeln!(out, " {runs} |");
            }
        }
        let errors: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| {
                g.cells.iter().enumerate().flat_map(move |(i, c)| {
                    c.errors.iter().map(move |e| {
                        format!(
                            "{} {}: {}",
                            labels.get(i).map(String::as_str).unwrap_or("?"),
                            g.key,
                            e
                        )
                    })
                })
            })
            .collect();
        if !errors.is_empty() {
            out.push_str("\nFailures:\n");
            for e in errors {
                let first_line = e.lines().next().unwrap_or("");
                let _ = writeln!(out, "- {first_line}");
            }
        }
        out.push('\n');
        out
    }

    /// The table as JSON.
    pub fn to_json(&self, labels: &[String]) -> Json {
        let groups = self
            .groups
            .iter()
            .map(|g| {
                let cells = g
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let medians = Json::Obj(
                            self.columns
                                .iter()
                                .enumerate()
                                .map(|(ci, col)| (col.key.to_string(), c.median(ci).into()))
                                .collect(),
                        );
                        obj([
                            ("switch", labels.get(i).cloned().unwrap_or_default().into()),
                            ("median", medians),
                            ("samples", Json::Arr(c.raw.clone())),
                            ("errors", c.errors.clone().into()),
                        ])
                    })
                    .collect();
                obj([
                    (self.group_name, g.key.clone().into()),
                    ("switches", Json::Arr(cells)),
                ])
            })
            .collect();
        obj([
            ("id", self.id.clone().into()),
            ("title", self.title.clone().into()),
            ("notes", self.notes.clone().into()),
            ("groups", Json::Arr(groups)),
            ("extra", self.extra.clone()),
        ])
    }
}

impl Report {
    fn labels(&self) -> Vec<String> {
        self.switches.iter().map(|s| s.label.clone()).collect()
    }

    /// The whole report as markdown.
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "## flowlab-bench datapath, {}\n", m.date_utc);
        let _ = writeln!(out, "Command:\n\n```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            out,
            "Machine: {} CPUs ({}), {} RAM, {}.  ",
            m.nproc, m.cpu_model, m.mem, m.kernel
        );
        let _ = writeln!(
            out,
            "Load average at start: {}; at end: {}. net.unix.max_dgram_qlen = {}.\n",
            m.loadavg, self.loadavg_end, m.max_dgram_qlen
        );
        out.push_str(
            "Switches (run side by side; each measurement cycles through them in turn):\n\n",
        );
        out.push_str("| # | switch | command line | status |\n|---:|---|---|---|\n");
        for (i, s) in self.switches.iter().enumerate() {
            let cmd = if s.argv.is_empty() {
                s.template.clone()
            } else {
                shell_join(&s.argv)
            };
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} |",
                i + 1,
                s.label,
                cmd,
                s.status
            );
        }
        out.push('\n');
        if !self.settings.is_empty() {
            out.push_str("Settings: ");
            let s: Vec<String> = self
                .settings
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            out.push_str(&s.join("; "));
            out.push_str(".\n\n");
        }
        let labels = self.labels();
        for t in &self.tables {
            out.push_str(&t.markdown(&labels));
        }
        out
    }

    /// The whole report as JSON.
    pub fn to_json(&self) -> Json {
        let labels = self.labels();
        obj([
            ("command", self.command.clone().into()),
            ("machine", self.machine.to_json()),
            ("loadavg_end", self.loadavg_end.clone().into()),
            (
                "switches",
                Json::Arr(
                    self.switches
                        .iter()
                        .map(|s| {
                            obj([
                                ("label", s.label.clone().into()),
                                ("template", s.template.clone().into()),
                                ("argv", s.argv.clone().into()),
                                ("status", s.status.clone().into()),
                            ])
                        })
                        .collect(),
                ),
            ),
            (
                "settings",
                Json::Obj(
                    self.settings
                        .iter()
                        .map(|(k, v)| (k.clone(), Json::from(v.clone())))
                        .collect(),
                ),
            ),
            (
                "tables",
                Json::Arr(self.tables.iter().map(|t| t.to_json(&labels)).collect()),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(-1234.0), "-1,234");
        assert_eq!(thousands(f64::NAN), "—");
        assert_eq!(fmt_ratio(Some(3.0), Some(2.0)), "1.50");
        assert_eq!(fmt_ratio(Some(3.0), Some(0.0)), "—");
        assert_eq!(fmt_ratio(None, Some(1.0)), "—");
        assert_eq!(
            shell_join(&["uml_switch", "a b", "it's"]),
            "uml_switch 'a b' 'it'\\''s'"
        );
    }

    #[test]
    fn table_medians_and_ratios() {
        let cols = vec![
            Column {
                name: "pps",
                key: "pps",
                decimals: None,
                ratio: true,
            },
            Column {
                name: "loss %",
                key: "loss",
                decimals: Some(2),
                ratio: false,
            },
        ];
        let mut t = Table::new("x", "X".into(), "size", cols);
        let g = t.add_group("64".into(), 2);
        t.groups[g].cells[0].samples = vec![vec![100.0, 0.0], vec![300.0, 1.0], vec![200.0, 0.5]];
        t.groups[g].cells[1].samples = vec![vec![50.0, 2.0]];
        t.groups[g].cells[1].errors = vec!["boom".into()];
        let md = t.markdown(&["a".into(), "b".into()]);
        assert!(md.contains("| a | 64 | 200 | 1.00 | 0.50 | 3 |"), "{md}");
        assert!(
            md.contains("| b | 64 | 50 | 0.25 | 2.00 | 1 (1 failed) |"),
            "{md}"
        );
        assert!(md.contains("- b 64: boom"), "{md}");
        let j = t.to_json(&["a".into(), "b".into()]).render();
        assert!(j.contains("\"pps\": 200"), "{j}");
    }
}
