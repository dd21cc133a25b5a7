//! `lab.dep`: start-order dependencies, and the scheduler that honours them.
//!
//! The file has one rule per line, `MACHINE: DEP1 DEP2 ...` (make syntax: several targets
//! before the colon are allowed, `#` starts a comment, a trailing `\` continues the line).
//! MACHINE starts only once every DEP has finished booting. Netkit fed this file to `make
//! -j N`, so it never noticed cycles or unknown names; Kathara rejects both, and so do we
//! ([`LabDep::check`]), naming the cycle with its `file:line`.
//!
//! [`StartPlan`] is the sans-IO scheduler: the launcher asks [`StartPlan::poll_start`] for
//! the next machine it may start now (all its dependencies ready and fewer than N machines
//! booting), reports [`StartPlan::handle_ready`] / [`StartPlan::handle_failed`], and is done
//! when [`StartPlan::is_finished`]. [`StartPlan::waves`] is the same schedule in lockstep.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::conf::is_netkit_machine;
use super::error::{LabError, LabErrorKind, Warning};

/// One rule: `machine` waits for `deps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepRule {
    /// The machine that waits.
    pub machine: String,
    /// The machines it waits for, in file order.
    pub deps: Vec<String>,
    /// The 1-based line of the rule.
    pub line: usize,
}

/// A parsed lab.dep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabDep {
    /// The file it came from (for messages).
    pub file: PathBuf,
    /// The rules in file order (one per target of a line).
    pub rules: Vec<DepRule>,
    /// The text of each rule's line, for error messages.
    texts: BTreeMap<usize, String>,
}

const SYNTAX_HINT: &str = "lab.dep lines look like `pc2: pc1 router` (pc2 starts after pc1 and \
                           router are up)";

impl LabDep {
    /// Parses the text of `file` (the path is only used in messages).
    pub fn parse(text: &str, file: &Path) -> Result<(LabDep, Vec<Warning>), LabError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut dep = LabDep {
            file: file.to_path_buf(),
            rules: Vec::new(),
            texts: BTreeMap::new(),
        };
        let mut warnings = Vec::new();
        let mut pending: Option<(usize, String)> = None;
        for (n, raw) in text.split('\n').enumerate() {
            let n = n + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let (start, mut joined) = match pending.take() {
                Some((s, mut acc)) => {
                    acc.push(' ');
                    acc.push_str(raw);
                    (s, acc)
                }
                None => (n, raw.to_string()),
            };
            // A comment ends the line, continuation or not (make strips it first).
            if let Some(hash) = joined.find('#') {
                joined.truncate(hash);
            } else if let Some(stripped) = joined.strip_suffix('\\') {
                pending = Some((start, stripped.to_string()));
                continue;
            }
            dep.rule_line(start, &joined, &mut warnings)?;
        }
        if let Some((start, joined)) = pending {
            dep.rule_line(start, &joined, &mut warnings)?;
        }
        Ok((dep, warnings))
    }

    fn rule_line(
        &mut self,
        line: usize,
        text: &str,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), LabError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let err = |kind: LabErrorKind| LabError::at(&self.file, line, text, kind);
        if text.starts_with('\t') {
            return Err(err(LabErrorKind::Syntax(
                "make recipes are not supported".into(),
            ))
            .with_hint(SYNTAX_HINT));
        }
        let Some((targets, deps)) = text.split_once(':') else {
            return Err(err(LabErrorKind::Syntax("no `:`".into())).with_hint(SYNTAX_HINT));
        };
        if deps.contains([':', '=', ';']) || targets.contains('=') {
            return Err(
                err(LabErrorKind::Syntax("not a dependency rule".into())).with_hint(SYNTAX_HINT)
            );
        }
        let targets: Vec<&str> = targets.split_whitespace().collect();
        let deps: Vec<&str> = deps.split_whitespace().collect();
        if targets.is_empty() {
            return Err(
                err(LabErrorKind::Syntax("no machine before `:`".into())).with_hint(SYNTAX_HINT)
            );
        }
        for name in targets.iter().chain(&deps) {
            if !is_netkit_machine(name) {
                return Err(err(LabErrorKind::MachineName(name.to_string()))
                    .with_hint("machine names are letters, digits, `_`, `.` and `-`"));
            }
        }
        if deps.is_empty() {
            warnings.push(Warning::at(
                &self.file,
                line,
                format!(
                    "`{}` depends on nothing; the line has no effect",
                    targets.join(" ")
                ),
            ));
        }
        for t in targets {
            let mut list: Vec<String> = Vec::new();
            for d in &deps {
                if !list.iter().any(|x| x == d) {
                    list.push(d.to_string());
                }
            }
            self.rules.push(DepRule {
                machine: t.to_string(),
                deps: list,
                line,
            });
        }
        self.texts.insert(line, text.trim().to_string());
        Ok(())
    }

    /// What `machine` waits for (all its rules merged, first mention first).
    pub fn dependencies(&self, machine: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in self.rules.iter().filter(|r| r.machine == machine) {
            for d in &r.deps {
                if !out.contains(&d.as_str()) {
                    out.push(d);
                }
            }
        }
        out
    }

    fn error(&self, line: usize, kind: LabErrorKind) -> LabError {
        let text = self.texts.get(&line).map(String::as_str).unwrap_or("");
        LabError::at(&self.file, line, text, kind)
    }

    /// Checks the rules against the lab's machines: every name must be a machine, and the
    /// dependencies must not form a cycle (the error names the cycle, `a -> b -> a`, at the
    /// line of its first edge).
    pub fn check(&self, machines: &[String]) -> Result<(), LabError> {
        let known = |n: &str| machines.iter().any(|m| m == n);
        for r in &self.rules {
            for n in std::iter::once(&r.machine).chain(&r.deps) {
                if !known(n) {
                    let mut list = machines
                        .iter()
                        .take(12)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ");
                    if machines.len() > 12 {
                        list.push_str(", ...");
                    }
                    return Err(self
                        .error(r.line, LabErrorKind::UnknownMachine(n.clone()))
                        .with_hint(format!("the machines of this lab are: {list}")));
                }
            }
        }
        // Depth-first search for a back edge, roots in lab order.
        #[derive(Clone, Copy, PartialEq)]
        enum Color {
            White,
            Grey,
            Black,
        }
        let index: BTreeMap<&str, usize> = machines
            .iter()
            .enumerate()
            .map(|(i, m)| (m.as_str(), i))
            .collect();
        // edges[i] = (dep index, rule line)
        let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); machines.len()];
        for r in &self.rules {
            if let Some(&from) = index.get(r.machine.as_str()) {
                for d in &r.deps {
                    if let Some(&to) = index.get(d.as_str()) {
                        edges[from].push((to, r.line));
                    }
                }
            }
        }
        let mut color = vec![Color::White; machines.len()];
        for root in 0..machines.len() {
            if color[root] != Color::White {
                continue;
            }
            // Iterative DFS: stack of (node, next edge), path of (node, line into next).
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            color[root] = Color::Grey;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&(to, _)) = edges[node].get(*next) {
                    *next += 1;
                    match color[to] {
                        Color::White => {
                            color[to] = Color::Grey;
                            stack.push((to, 0));
                        }
                        Color::Grey => {
                            // The cycle is the stack from `to` up to `node`, then `to`.
                            let start = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                            let mut names: Vec<String> = stack[start..]
                                .iter()
                                .map(|(n, _)| machines[*n].clone())
                                .collect();
                            names.push(machines[to].clone());
                            let (first_from, first_next) = stack[start];
                            let line = edges[first_from]
                                .get(first_next.saturating_sub(1))
                                .map(|e| e.1)
                                .unwrap_or(0);
                            return Err(self.error(line, LabErrorKind::Cycle(names)).with_hint(
                                "machines in a cycle wait for each other forever: remove one \
                                 of these dependencies",
                            ));
                        }
                        Color::Black => {}
                    }
                } else {
                    color[node] = Color::Black;
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    /// `selected` plus everything they wait for, transitively, in `order` (the lab's
    /// machine order). Netkit's make-driven lstart starts a selected machine's
    /// dependencies too.
    pub fn closure(&self, selected: &[&str], order: &[String]) -> Vec<String> {
        let mut want: Vec<&str> = selected.to_vec();
        let mut i = 0;
        while let Some(&m) = want.get(i) {
            for d in self.dependencies(m) {
                if !want.contains(&d) {
                    want.push(d);
                }
            }
            i += 1;
        }
        order
            .iter()
            .filter(|m| want.contains(&m.as_str()))
            .cloned()
            .collect()
    }
}

/// Where one machine is in a [`StartPlan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartState {
    /// Not started yet.
    Waiting,
    /// Handed out by [`StartPlan::poll_start`], not ready yet.
    Booting,
    /// Booted (its `.ready` appeared).
    Ready,
    /// Failed to boot.
    Failed,
    /// Will never start: something it waits for failed.
    Blocked,
}

/// The start schedule of a set of machines under lab.dep and a concurrency cap.
#[derive(Debug, Clone)]
pub struct StartPlan {
    order: Vec<String>,
    deps: Vec<Vec<usize>>,
    state: Vec<StartState>,
    max_parallel: usize,
}

impl StartPlan {
    /// A plan for `order` (the machines to start, in start order). Dependencies on
    /// machines outside `order` count as met (use [`LabDep::closure`] to include them).
    /// `max_parallel` caps how many machines boot at once; 0 means no cap. The rules must
    /// have passed [`LabDep::check`]: machines in a cycle would simply never start.
    pub fn new(order: &[String], dep: Option<&LabDep>, max_parallel: usize) -> StartPlan {
        let deps = order
            .iter()
            .map(|m| {
                dep.map(|d| {
                    d.dependencies(m)
                        .into_iter()
                        .filter_map(|x| order.iter().position(|o| o == x))
                        .collect()
                })
                .unwrap_or_default()
            })
            .collect();
        StartPlan {
            order: order.to_vec(),
            deps,
            state: vec![StartState::Waiting; order.len()],
            max_parallel,
        }
    }

    fn pos(&self, name: &str) -> Option<usize> {
        self.order.iter().position(|o| o == name)
    }

    /// The state of `name`, if it is in the plan.
    pub fn state(&self, name: &str) -> Option<StartState> {
        self.pos(name).map(|i| self.state[i])
    }

    /// How many machines are booting now.
    pub fn booting(&self) -> usize {
        self.state
            .iter()
            .filter(|s| **s == StartState::Booting)
            .count()
    }

    /// The next machine to start now, marked as booting; `None` when the cap is reached or
    /// every waiting machine still waits for another one.
    pub fn poll_start(&mut self) -> Option<String> {
        if self.max_parallel != 0 && self.booting() >= self.max_parallel {
            return None;
        }
        let i = (0..self.order.len()).find(|&i| {
            self.state[i] == StartState::Waiting
                && self.deps[i]
                    .iter()
                    .all(|&d| self.state[d] == StartState::Ready)
        })?;
        self.state[i] = StartState::Booting;
        Some(self.order[i].clone())
    }

    /// `name` finished booting.
    pub fn handle_ready(&mut self, name: &str) {
        if let Some(i) = self.pos(name) {
            self.state[i] = StartState::Ready;
        }
    }

    /// `name` failed to boot. Returns the machines that will now never start (those that
    /// wait for it, directly or not), in plan order.
    pub fn handle_failed(&mut self, name: &str) -> Vec<String> {
        let Some(i) = self.pos(name) else {
            return Vec::new();
        };
        self.state[i] = StartState::Failed;
        let mut blocked = Vec::new();
        loop {
            let next = (0..self.order.len()).find(|&j| {
                self.state[j] == StartState::Waiting
                    && self.deps[j]
                        .iter()
                        .any(|&d| matches!(self.state[d], StartState::Failed | StartState::Blocked))
            });
            let Some(j) = next else { break };
            self.state[j] = StartState::Blocked;
            blocked.push(j);
        }
        blocked.sort_unstable();
        blocked.into_iter().map(|j| self.order[j].clone()).collect()
    }

    /// Nothing is booting and nothing more can start.
    pub fn is_finished(&self) -> bool {
        self.booting() == 0
            && !(0..self.order.len()).any(|i| {
                self.state[i] == StartState::Waiting
                    && self.deps[i]
                        .iter()
                        .all(|&d| self.state[d] == StartState::Ready)
            })
    }

    /// The schedule in lockstep: each wave is started together and all of it must be ready
    /// before the next wave starts; a wave holds at most `max_parallel` machines (0: no
    /// cap). Machines that can never start (a cycle) are left out.
    pub fn waves(order: &[String], dep: Option<&LabDep>, max_parallel: usize) -> Vec<Vec<String>> {
        let mut plan = StartPlan::new(order, dep, max_parallel);
        let mut waves = Vec::new();
        loop {
            let mut wave = Vec::new();
            while let Some(m) = plan.poll_start() {
                wave.push(m);
            }
            if wave.is_empty() {
                break;
            }
            for m in &wave {
                plan.handle_ready(m);
            }
            waves.push(wave);
        }
        waves
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn parse(text: &str) -> Result<(LabDep, Vec<Warning>), LabError> {
        LabDep::parse(text, Path::new("/lab/lab.dep"))
    }

    /// The RIP-lab shape: routers first, then hosts that need them.
    const RIP_DEP: &str = "\
# hosts wait for their routers
pc1: r1
pc2: r3
r2: r1 r3   # the middle router last
";

    #[test]
    fn parse_and_waves() {
        let (d, w) = parse(RIP_DEP).unwrap();
        assert!(w.is_empty());
        assert_eq!(d.dependencies("r2"), ["r1", "r3"]);
        assert_eq!(d.rules[2].line, 4);
        let order = names(&["pc1", "pc2", "r1", "r2", "r3"]);
        d.check(&order).unwrap();
        let waves = StartPlan::waves(&order, Some(&d), 0);
        assert_eq!(waves, [names(&["r1", "r3"]), names(&["pc1", "pc2", "r2"])]);
        let waves = StartPlan::waves(&order, Some(&d), 2);
        assert_eq!(
            waves,
            [names(&["r1", "r3"]), names(&["pc1", "pc2"]), names(&["r2"])]
        );
        let waves = StartPlan::waves(&order, None, 2);
        assert_eq!(waves.len(), 3);
        assert_eq!(waves[0], names(&["pc1", "pc2"]));
    }

    #[test]
    fn dynamic_plan_respects_cap_and_failures() {
        let (d, _) = parse("b: a\nc: b\nd: a\n").unwrap();
        let order = names(&["a", "b", "c", "d", "e"]);
        let mut p = StartPlan::new(&order, Some(&d), 2);
        assert_eq!(p.poll_start().as_deref(), Some("a"));
        assert_eq!(p.poll_start().as_deref(), Some("e"));
        assert_eq!(p.poll_start(), None, "cap of 2 reached");
        p.handle_ready("e");
        assert_eq!(p.poll_start(), None, "b and d wait for a");
        assert!(!p.is_finished());
        assert_eq!(p.handle_failed("a"), ["b", "c", "d"]);
        assert_eq!(p.state("c"), Some(StartState::Blocked));
        assert!(p.is_finished());
    }

    #[test]
    fn multi_target_continuation_and_dedup() {
        let (d, w) = parse("a b: c \\\n  c d\nx:\n").unwrap();
        assert_eq!(d.dependencies("a"), ["c", "d"]);
        assert_eq!(d.dependencies("b"), ["c", "d"]);
        assert_eq!(d.rules[0].line, 1);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(3));
    }

    #[test]
    fn cycle_is_named_with_its_line() {
        let (d, _) = parse("# loop\na: b\nb: c\nc: a\n").unwrap();
        let e = d.check(&names(&["a", "b", "c"])).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::Cycle(names(&["a", "b", "c", "a"])));
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.text(), "a: b");
        assert!(e
            .to_string()
            .starts_with("/lab/lab.dep:2: dependency cycle a -> b -> c -> a"));
        let (d, _) = parse("a: a\n").unwrap();
        let e = d.check(&names(&["a"])).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::Cycle(names(&["a", "a"])));
        // A cycle not reachable from the first root.
        let (d, _) = parse("x: a\nb: c\nc: b\n").unwrap();
        let e = d.check(&names(&["a", "b", "c", "x"])).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::Cycle(names(&["b", "c", "b"])));
        assert_eq!(e.line(), Some(2));
    }

    #[test]
    fn unknown_machine_and_syntax_errors() {
        let (d, _) = parse("a: b\n\npc9: a\n").unwrap();
        let e = d.check(&names(&["a", "b"])).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::UnknownMachine("pc9".into()));
        assert_eq!(e.line(), Some(3));
        assert!(e.hint().unwrap().contains("a, b"));
        let e = parse("a b c\n").unwrap_err();
        assert_eq!(e.line(), Some(1));
        assert!(e.hint().unwrap().contains("pc2: pc1"));
        let e = parse("a: b\n\tlstart\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        let e = parse("x = 1\n").unwrap_err();
        assert!(matches!(e.kind(), LabErrorKind::Syntax(_)));
        let e = parse(": a\n").unwrap_err();
        assert!(matches!(e.kind(), LabErrorKind::Syntax(_)));
        let e = parse("a: $(B)\n").unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::MachineName("$(B)".into()));
    }

    #[test]
    fn closure_adds_dependencies() {
        let (d, _) = parse("c: b\nb: a\n").unwrap();
        let order = names(&["a", "b", "c", "x"]);
        assert_eq!(d.closure(&["c"], &order), names(&["a", "b", "c"]));
        assert_eq!(d.closure(&["x"], &order), names(&["x"]));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            if let Ok((d, _)) = parse(&text) {
                let _ = d.check(&names(&["a", "b"]));
            }
        }

        /// On random acyclic graphs every machine appears in exactly one wave, after all
        /// of its dependencies, and no wave exceeds the cap.
        #[test]
        fn waves_respect_dependencies(
            n in 1usize..12,
            edges in proptest::collection::vec((0usize..12, 0usize..12), 0..30),
            cap in 0usize..4,
        ) {
            let order: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
            let mut text = String::new();
            for (a, b) in edges {
                let (a, b) = (a % n, b % n);
                if a > b {
                    text.push_str(&format!("m{a}: m{b}\n"));
                }
            }
            let (d, _) = parse(&text).unwrap();
            d.check(&order).unwrap();
            let waves = StartPlan::waves(&order, Some(&d), cap);
            let mut wave_of = BTreeMap::new();
            for (w, wave) in waves.iter().enumerate() {
                prop_assert!(cap == 0 || wave.len() <= cap);
                for m in wave {
                    prop_assert!(wave_of.insert(m.clone(), w).is_none());
                }
            }
            prop_assert_eq!(wave_of.len(), n);
            for m in &order {
                for dep in d.dependencies(m) {
                    prop_assert!(wave_of[dep] < wave_of[m]);
                }
            }
        }
    }
}
