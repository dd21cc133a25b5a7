//! The lab: machines, their interfaces and options, collision domains, start order, and
//! the lab-wide files. Built from a [`LabListing`] (sans-IO) or loaded from a directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::conf::{
    is_machine_name, Dialect, LabConf, LabInfo, MacAddr, MachineOptions, TapSpec, RESERVED_NAMES,
};
use super::dep::{LabDep, StartPlan};
use super::error::{LabError, LabErrorKind, Warning};
use super::folder::LabListing;

/// The guest root filesystems flowlab provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Image {
    /// busybox-static: boots fast, enough for addressing, ping and static routes.
    Busybox,
    /// Debian bookworm with iproute2, net-tools, FRR...: stands in for `kathara/base`,
    /// `kathara/frr` and `kathara/quagga`.
    Debian,
}

impl Image {
    /// The name used on the command line and in image file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Image::Busybox => "busybox",
            Image::Debian => "debian",
        }
    }

    /// Maps an image name as written in lab.conf (`vm[image]=...`, usually a Docker image)
    /// onto a flowlab image. A registry host (`docker.io/`), a `:tag` and an `@digest`
    /// are ignored; case is not significant. `kathara/base`, `kathara/frr`,
    /// `kathara/quagga` and `debian` give [`Image::Debian`]; `busybox` gives
    /// [`Image::Busybox`]; `flowlab/<kind>` names a flowlab image directly. Anything else
    /// is `None`.
    pub fn from_name(name: &str) -> Option<Image> {
        let lower = name.trim().to_ascii_lowercase();
        let mut s = lower.as_str();
        if let Some((before, _)) = s.split_once('@') {
            s = before;
        }
        // A first component with a `.` or `:` (or `localhost`) is a registry host.
        if let Some((first, rest)) = s.split_once('/') {
            if first.contains(['.', ':']) || first == "localhost" {
                s = rest;
            }
        }
        // A `:tag` after the last `/`.
        let last_slash = s.rfind('/').map(|i| i + 1).unwrap_or(0);
        if let Some(colon) = s[last_slash..].find(':') {
            s = &s[..last_slash + colon];
        }
        let s = s.strip_prefix("library/").unwrap_or(s);
        match s {
            "kathara/base" | "kathara/frr" | "kathara/quagga" | "debian" | "flowlab/debian" => {
                Some(Image::Debian)
            }
            "busybox" | "flowlab/busybox" => Some(Image::Busybox),
            _ => None,
        }
    }
}

/// One interface of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// N of `ethN`.
    pub index: u32,
    /// The collision domain it is attached to.
    pub domain: String,
    /// A fixed MAC address (`CD/MAC`); otherwise UML picks one.
    pub mac: Option<MacAddr>,
    /// Set when the domain is a tap domain (needs root on the host).
    pub tap: Option<TapSpec>,
    /// The lab.conf line that defines it.
    pub line: usize,
}

impl Interface {
    /// The guest's name for it: `eth0`, `eth1`, ...
    pub fn name(&self) -> String {
        format!("eth{}", self.index)
    }
}

/// One machine (guest) of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// The machine name (host name, folder name, `umid`).
    pub name: String,
    /// Its interfaces by increasing number (gaps possible in the Netkit dialect).
    pub interfaces: Vec<Interface>,
    /// Its options from lab.conf.
    pub options: MachineOptions,
    /// The flowlab image its `image` option maps to; `None` means the launcher's default
    /// (no `image` option, or one flowlab does not provide, with a warning).
    pub image: Option<Image>,
    /// `<lab>/<vm>/`, copied into the guest's `/` at first boot, if it exists.
    pub dir: Option<PathBuf>,
    /// `<lab>/<vm>.startup`, if it exists.
    pub startup: Option<PathBuf>,
    /// `<lab>/<vm>.shutdown`, if it exists.
    pub shutdown: Option<PathBuf>,
}

impl Machine {
    /// The interface `ethN`.
    pub fn interface(&self, index: u32) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.index == index)
    }
}

/// One end of a collision domain: a machine's interface.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attachment {
    /// The machine.
    pub machine: String,
    /// N of its `ethN`.
    pub interface: u32,
}

/// A collision domain (one virtual hub) and what is attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollisionDomain {
    /// The domain name.
    pub name: String,
    /// Set for a tap domain: the first definition's addresses (Netkit: the tap address
    /// only counts once).
    pub tap: Option<TapSpec>,
    /// The attached interfaces, in machine order then interface order.
    pub attachments: Vec<Attachment>,
}

/// A Netkit or Kathara lab, read without starting anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lab {
    /// The lab directory.
    pub dir: PathBuf,
    /// The dialect lab.conf was read in.
    pub dialect: Dialect,
    /// The `LAB_*` description.
    pub info: LabInfo,
    /// The machines in start order (the `machines=` list, else `ls` order).
    pub machines: Vec<Machine>,
    /// The collision domains, sorted by name.
    pub domains: Vec<CollisionDomain>,
    /// `lab.dep`, if present (already checked: known names, no cycle).
    pub dep: Option<LabDep>,
    /// `<lab>/lab.conf`, if it exists.
    pub conf_file: Option<PathBuf>,
    /// `<lab>/shared/`, if it exists (Netkit copies it into every guest before `<vm>/`).
    pub shared_dir: Option<PathBuf>,
    /// `<lab>/shared.startup`, if it exists (runs before `<vm>.startup`).
    pub shared_startup: Option<PathBuf>,
    /// `<lab>/shared.shutdown`, if it exists (runs after `<vm>.shutdown`).
    pub shared_shutdown: Option<PathBuf>,
    /// `<lab>/_test/`, if it exists (expectations for `flowlab test`).
    pub test_dir: Option<PathBuf>,
}

impl Lab {
    /// Reads the lab in `dir`. With `dialect` `None` the lab.conf dialect is detected
    /// ([`super::conf::detect_dialect`]). Warnings come back beside the lab.
    pub fn load(dir: &Path, dialect: Option<Dialect>) -> Result<(Lab, Vec<Warning>), LabError> {
        let (listing, mut warnings) = LabListing::read(dir)?;
        let (lab, more) = Lab::from_listing(&listing, dialect)?;
        warnings.extend(more);
        Ok((lab, warnings))
    }

    /// Builds the lab from a directory listing (no file-system access).
    pub fn from_listing(
        listing: &LabListing,
        dialect: Option<Dialect>,
    ) -> Result<(Lab, Vec<Warning>), LabError> {
        let dir = &listing.dir;
        let conf_path = dir.join("lab.conf");
        let mut warnings = Vec::new();
        if listing.conf.is_none() && listing.dep.is_none() {
            return Err(LabError::file(dir, LabErrorKind::NotALab).with_hint(
                "a lab folder holds lab.conf and one folder per machine; give it with -d DIR",
            ));
        }
        let conf = match &listing.conf {
            Some(text) => {
                let (c, w) = LabConf::parse(text, &conf_path, dialect)?;
                warnings.extend(w);
                c
            }
            None => LabConf {
                dialect: dialect.unwrap_or(Dialect::Netkit),
                machine_list: None,
                info: LabInfo::default(),
                machines: Vec::new(),
            },
        };
        let d = conf.dialect;

        // Machine folders: not hidden, not reserved, a usable name.
        let mut folders: Vec<&str> = Vec::new();
        for e in listing.entries.iter().filter(|e| e.is_dir) {
            let n = e.name.as_str();
            if n.starts_with('.') || RESERVED_NAMES.contains(&n) {
                continue;
            }
            if !is_machine_name(n, d) {
                let why = match d {
                    Dialect::Kathara => {
                        "Kathara device names are lower-case letters, digits and `_`"
                    }
                    Dialect::Netkit => "machine names are letters, digits, `_`, `.` and `-`",
                };
                warnings.push(Warning::file(
                    &dir.join(n),
                    format!("not a machine: {why}; folder ignored"),
                ));
                continue;
            }
            folders.push(n);
        }

        let names: Vec<String> = match &conf.machine_list {
            Some(list) => {
                for f in &folders {
                    if !list.names.iter().any(|n| n == f) {
                        warnings.push(Warning::file(
                            &dir.join(f),
                            format!(
                                "not listed in machines= (lab.conf line {}); not a machine",
                                list.line
                            ),
                        ));
                    }
                }
                for m in &conf.machines {
                    if !list.names.contains(&m.name) {
                        warnings.push(Warning::at(
                            &conf_path,
                            m.line,
                            format!(
                                "`{}` is not listed in machines= (line {}); its definitions \
                                 are ignored",
                                m.name, list.line
                            ),
                        ));
                    }
                }
                list.names.clone()
            }
            None => {
                let mut all: Vec<String> = folders.iter().map(|s| s.to_string()).collect();
                for m in &conf.machines {
                    if !all.contains(&m.name) {
                        all.push(m.name.clone());
                    }
                }
                all.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                all
            }
        };

        let file_if = |name: String| listing.has_file(&name).then(|| dir.join(name));
        let mut machines = Vec::new();
        for name in &names {
            let mc = conf.machine(name);
            let options = mc.map(|m| m.options.clone()).unwrap_or_default();
            let interfaces = mc
                .map(|m| {
                    m.interfaces
                        .iter()
                        .map(|(&index, c)| Interface {
                            index,
                            domain: c.domain.clone(),
                            mac: c.mac,
                            tap: c.tap,
                            line: c.line,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let image = match &options.image {
                None => None,
                Some(img) => {
                    let mapped = Image::from_name(img);
                    if mapped.is_none() {
                        let line = mc
                            .and_then(|m| m.option_lines.get("image").copied())
                            .unwrap_or(0);
                        warnings.push(Warning::at(
                            &conf_path,
                            line,
                            format!(
                                "`{name}`: flowlab has no image like `{img}`; using the default \
                                 image (flowlab provides debian, for kathara/base, kathara/frr \
                                 and kathara/quagga, and busybox)"
                            ),
                        ));
                    }
                    mapped
                }
            };
            machines.push(Machine {
                name: name.clone(),
                interfaces,
                options,
                image,
                dir: listing.has_dir(name).then(|| dir.join(name)),
                startup: file_if(format!("{name}.startup")),
                shutdown: file_if(format!("{name}.shutdown")),
            });
        }

        // Startup files without a machine are probably typos.
        for e in listing.entries.iter().filter(|e| !e.is_dir) {
            for ext in [".startup", ".shutdown"] {
                if let Some(stem) = e.name.strip_suffix(ext) {
                    if stem != "shared" && !stem.is_empty() && !names.iter().any(|n| n == stem) {
                        warnings.push(Warning::file(
                            &dir.join(&e.name),
                            format!("there is no machine `{stem}`; file ignored"),
                        ));
                    }
                }
            }
        }

        let domains = collect_domains(&machines, &conf_path, &mut warnings)?;

        let dep = match &listing.dep {
            Some(text) => {
                let (dep, w) = LabDep::parse(text, &dir.join("lab.dep"))?;
                warnings.extend(w);
                dep.check(&names)?;
                Some(dep)
            }
            None => None,
        };

        let lab = Lab {
            dir: dir.clone(),
            dialect: d,
            info: conf.info.clone(),
            machines,
            domains,
            dep,
            conf_file: listing.conf.is_some().then(|| conf_path.clone()),
            shared_dir: listing.has_dir("shared").then(|| dir.join("shared")),
            shared_startup: file_if("shared.startup".into()),
            shared_shutdown: file_if("shared.shutdown".into()),
            test_dir: listing.has_dir("_test").then(|| dir.join("_test")),
        };
        Ok((lab, warnings))
    }

    /// The machine `name`.
    pub fn machine(&self, name: &str) -> Option<&Machine> {
        self.machines.iter().find(|m| m.name == name)
    }

    /// The collision domain `name`.
    pub fn domain(&self, name: &str) -> Option<&CollisionDomain> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The machine names in start order.
    pub fn machine_names(&self) -> Vec<String> {
        self.machines.iter().map(|m| m.name.clone()).collect()
    }

    /// The start schedule for `selected` machines (all when empty) plus what they depend
    /// on in lab.dep, with at most `max_parallel` booting at once (0: no cap).
    pub fn start_plan(&self, selected: &[&str], max_parallel: usize) -> StartPlan {
        let order = self.start_set(selected);
        StartPlan::new(&order, self.dep.as_ref(), max_parallel)
    }

    /// [`Lab::start_plan`] as lockstep waves (see [`StartPlan::waves`]).
    pub fn start_waves(&self, selected: &[&str], max_parallel: usize) -> Vec<Vec<String>> {
        let order = self.start_set(selected);
        StartPlan::waves(&order, self.dep.as_ref(), max_parallel)
    }

    fn start_set(&self, selected: &[&str]) -> Vec<String> {
        let all = self.machine_names();
        match (&self.dep, selected.is_empty()) {
            (_, true) => all,
            (Some(dep), false) => dep.closure(selected, &all),
            (None, false) => all
                .into_iter()
                .filter(|m| selected.contains(&m.as_str()))
                .collect(),
        }
    }
}

fn collect_domains(
    machines: &[Machine],
    conf_path: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<CollisionDomain>, LabError> {
    // name -> (domain, line of its first attachment)
    let mut map: BTreeMap<String, (CollisionDomain, usize)> = BTreeMap::new();
    for m in machines {
        for i in &m.interfaces {
            let text = format!("{}[{}]={}", m.name, i.index, i.domain);
            let (dom, first_line) = map.entry(i.domain.clone()).or_insert_with(|| {
                (
                    CollisionDomain {
                        name: i.domain.clone(),
                        tap: i.tap,
                        attachments: Vec::new(),
                    },
                    i.line,
                )
            });
            match (dom.tap, i.tap) {
                (Some(_), None) | (None, Some(_)) => {
                    return Err(LabError::at(
                        conf_path,
                        i.line,
                        &text,
                        LabErrorKind::DomainConflict(i.domain.clone()),
                    )
                    .with_hint(format!(
                        "line {first_line} uses `{}` the other way: a domain is either a tap \
                         (`{}[{}]=NAME,TAP_ADDR,GUEST_ADDR`) or a plain hub, not both",
                        i.domain, m.name, i.index
                    )));
                }
                (Some(a), Some(b)) if a.tap_addr != b.tap_addr => warnings.push(Warning::at(
                    conf_path,
                    i.line,
                    format!(
                        "tap domain `{}` already has host address {} (line {first_line}); {} \
                         is ignored",
                        i.domain, a.tap_addr, b.tap_addr
                    ),
                )),
                _ => {}
            }
            dom.attachments.push(Attachment {
                machine: m.name.clone(),
                interface: i.index,
            });
        }
    }
    Ok(map.into_values().map(|(d, _)| d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::testutil::{self, TempLab};

    fn load(t: &TempLab) -> (Lab, Vec<Warning>) {
        match Lab::load(t.path(), None) {
            Ok(x) => x,
            Err(e) => panic!("{e}"),
        }
    }

    fn att(m: &str, i: u32) -> Attachment {
        Attachment {
            machine: m.into(),
            interface: i,
        }
    }

    #[test]
    fn netkit_man_page_lab() {
        let t = testutil::netkit_man_lab();
        t.dir("notes");
        t.file("pc3.startup", "ifconfig eth0 10.0.0.3 up\n");
        let (lab, w) = load(&t);
        assert_eq!(lab.dialect, Dialect::Netkit);
        assert_eq!(
            lab.machine_names(),
            ["pc1", "pc2", "router"],
            "machines= order"
        );
        let router = lab.machine("router").unwrap();
        assert_eq!(router.options.mem_mb, Some(128));
        assert_eq!(router.interfaces.len(), 2);
        assert_eq!(router.interface(1).unwrap().name(), "eth1");
        assert_eq!(
            router.dir.as_deref(),
            Some(t.path().join("router").as_path())
        );
        assert_eq!(router.startup, Some(t.path().join("router.startup")));
        assert_eq!(router.shutdown, None);
        // pc2 has no folder: Netkit still starts it.
        assert_eq!(lab.machine("pc2").unwrap().dir, None);
        assert_eq!(lab.shared_dir, Some(t.path().join("shared")));
        assert_eq!(lab.shared_startup, Some(t.path().join("shared.startup")));
        assert_eq!(lab.shared_shutdown, None);
        assert_eq!(lab.test_dir, Some(t.path().join("_test")));
        assert_eq!(
            lab.info.description.as_deref(),
            Some("the lab.conf(5) example")
        );
        let cd1 = lab.domain("CD1").unwrap();
        assert_eq!(cd1.attachments, [att("pc1", 0), att("router", 0)]);
        assert_eq!(lab.domains.len(), 2);
        let ws: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert!(
            ws.iter()
                .any(|w| w.contains("notes: not listed in machines=")),
            "{ws:?}"
        );
        assert!(
            ws.iter()
                .any(|w| w.contains("pc3.startup: there is no machine `pc3`")),
            "{ws:?}"
        );
        assert_eq!(ws.len(), 2, "{ws:?}");
    }

    #[test]
    fn two_host_lab_from_folders() {
        let t = testutil::two_host_lab();
        let (lab, w) = load(&t);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(lab.machine_names(), ["pc1", "pc2"]);
        assert_eq!(lab.domains.len(), 1);
        assert_eq!(lab.domains[0].attachments, [att("pc1", 0), att("pc2", 0)]);
        assert_eq!(
            lab.start_waves(&[], 0),
            [vec!["pc1".to_string(), "pc2".to_string()]]
        );
    }

    #[test]
    fn kathara_lab_with_images() {
        let t = testutil::kathara_frr_lab();
        let (lab, w) = load(&t);
        assert_eq!(lab.dialect, Dialect::Kathara);
        assert_eq!(lab.info.name.as_deref(), Some("frr-bgp"));
        // lab.conf entries plus folders, `ls` order; `ws` only has a folder.
        assert_eq!(lab.machine_names(), ["dns", "router1", "router2", "ws"]);
        assert_eq!(lab.machine("router1").unwrap().image, Some(Image::Debian));
        assert_eq!(lab.machine("router2").unwrap().image, Some(Image::Debian));
        assert_eq!(lab.machine("ws").unwrap().image, None);
        assert_eq!(
            lab.machine("dns").unwrap().image,
            None,
            "unknown image -> default"
        );
        let ws: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert!(
            ws.iter()
                .any(|w| w.contains("lab.conf:9: `dns`: flowlab has no image like `kathara/bind`")),
            "{ws:?}"
        );
        let r1 = lab.machine("router1").unwrap();
        assert_eq!(
            r1.interfaces[0].mac.unwrap().to_string(),
            "02:42:ac:11:00:01"
        );
        assert!(lab.domain("ext_net").is_some());
        assert!(
            ws.iter()
                .any(|w| w.contains("`PC9`") || w.contains("PC9: not a machine")),
            "{ws:?}"
        );
    }

    #[test]
    fn static_and_rip_labs() {
        let t = testutil::static_routes_lab();
        let (lab, w) = load(&t);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(lab.machine_names(), ["r1", "r2", "r3"]);
        assert_eq!(
            lab.domain("B").unwrap().attachments,
            [att("r2", 1), att("r3", 0)]
        );

        let t = testutil::rip_lab();
        let (lab, w) = load(&t);
        assert!(w.is_empty(), "{w:?}");
        assert!(lab.dep.is_some());
        assert_eq!(
            lab.start_waves(&[], 0),
            [
                vec!["r1".to_string(), "r2".to_string(), "r3".to_string()],
                vec!["pc1".to_string(), "pc2".to_string()]
            ]
        );
        // Starting pc1 alone brings the router it waits for.
        assert_eq!(
            lab.start_waves(&["pc1"], 0),
            [vec!["r1".to_string()], vec!["pc1".to_string()]]
        );
        let mut plan = lab.start_plan(&[], 1);
        assert_eq!(plan.poll_start().as_deref(), Some("r1"));
        assert_eq!(plan.poll_start(), None);
    }

    #[test]
    fn dep_cycle_stops_loading() {
        let t = testutil::two_host_lab();
        t.file("lab.dep", "# start order\npc1: pc2\npc2: pc1\n");
        let e = Lab::load(t.path(), None).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.path(), t.path().join("lab.dep"));
        assert_eq!(
            *e.kind(),
            LabErrorKind::Cycle(vec!["pc1".into(), "pc2".into(), "pc1".into()])
        );
        t.file("lab.dep", "pc1: pc3\n");
        let e = Lab::load(t.path(), None).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::UnknownMachine("pc3".into()));
        assert_eq!(e.line(), Some(1));
    }

    #[test]
    fn bad_lab_files() {
        let t = TempLab::new("bad");
        let e = Lab::load(t.path(), None).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::NotALab);
        // A domain used as both tap and plain.
        t.file("lab.conf", "a[0]=ext,10.0.0.1,10.0.0.2\nb[0]=ext\n");
        let e = Lab::load(t.path(), None).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::DomainConflict("ext".into()));
        assert_eq!(e.line(), Some(2));
        assert!(e.hint().unwrap().contains("line 1"));
        // Kathara forced on a Netkit lab: the gap.
        t.file("lab.conf", "r1[1]=B\nr1[2]=C\n");
        let e = Lab::load(t.path(), Some(Dialect::Kathara)).unwrap_err();
        assert_eq!(e.line(), Some(1));
        assert!(e
            .hint()
            .unwrap()
            .contains("add `r1[0]=...` or use --dialect netkit"));
        let (lab, _) = Lab::load(t.path(), None).unwrap();
        assert_eq!(lab.machine("r1").unwrap().interfaces[0].index, 1);
        // Two taps with different host addresses: the first counts.
        t.file(
            "lab.conf",
            "a[0]=tap,10.0.0.1,10.0.0.2\nb[0]=tap,10.0.0.9,10.0.0.3\n",
        );
        let (lab, w) = Lab::load(t.path(), None).unwrap();
        assert_eq!(
            lab.domain("tap").unwrap().tap.unwrap().tap_addr,
            std::net::Ipv4Addr::new(10, 0, 0, 1)
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(2));
    }

    #[test]
    fn image_names() {
        for (n, want) in [
            ("kathara/frr", Some(Image::Debian)),
            ("kathara/frr:latest", Some(Image::Debian)),
            ("docker.io/kathara/quagga:v2", Some(Image::Debian)),
            ("Kathara/Base", Some(Image::Debian)),
            ("kathara/base@sha256:abcd", Some(Image::Debian)),
            ("debian:bookworm", Some(Image::Debian)),
            ("busybox", Some(Image::Busybox)),
            ("library/busybox:1.36", Some(Image::Busybox)),
            ("localhost:5000/flowlab/busybox", Some(Image::Busybox)),
            ("kathara/bind", None),
            ("kathara/frrx", None),
            ("", None),
        ] {
            assert_eq!(Image::from_name(n), want, "{n}");
        }
    }

    proptest::proptest! {
        /// Whatever lab.conf and lab.dep say, building the lab returns, and a lab that
        /// builds has consistent domains and a dependency plan that covers every machine.
        #[test]
        fn arbitrary_labs_never_panic(
            conf in "([a-c][0-3]?\\[[0-2a-z]{1,3}\\]=[A-Ca-c_,./0-9:]{0,8}\n|machines=[a-c ]{0,6}\n|# x\n){0,10}",
            dep in "([a-c]: [a-c ]{0,5}\n){0,4}",
            folders in proptest::collection::vec("[a-cA_.]{1,3}", 0..4),
            d in proptest::option::of(proptest::prop_oneof![
                proptest::strategy::Just(Dialect::Netkit),
                proptest::strategy::Just(Dialect::Kathara),
            ]),
        ) {
            let listing = LabListing {
                dir: PathBuf::from("/nonexistent/lab"),
                entries: folders
                    .iter()
                    .map(|n| crate::lab::folder::ListingEntry { name: n.clone(), is_dir: true })
                    .collect(),
                conf: Some(conf),
                dep: Some(dep),
            };
            if let Ok((lab, _)) = Lab::from_listing(&listing, d) {
                for dom in &lab.domains {
                    for a in &dom.attachments {
                        let m = lab.machine(&a.machine).unwrap();
                        proptest::prop_assert_eq!(&m.interface(a.interface).unwrap().domain, &dom.name);
                    }
                }
                let waves = lab.start_waves(&[], 2);
                proptest::prop_assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), lab.machines.len());
            }
        }
    }
}
