//! The lab model: Netkit and Kathara lab folders, read unchanged and without starting
//! anything.
//!
//! # What a lab is
//!
//! A lab is a directory: `lab.conf` (topology and per-machine options), `lab.dep` (start
//! order), one folder `<vm>/` per machine (copied into the guest's `/` at first boot),
//! `<vm>.startup` / `<vm>.shutdown` scripts, and the lab-wide `shared/`,
//! `shared.startup`, `shared.shutdown` and `_test/`. [`Lab::load`] turns it into a
//! [`Lab`]: machines in start order with their interfaces, options, image and file paths;
//! collision domains with what is attached to them; the checked `lab.dep`; the `LAB_*`
//! description. Only [`folder`] touches the file system (one listing and two reads;
//! [`addresses`] reads startup files for the picture); the rest works on text and is
//! tested on text, so a malformed lab can never do more than return a [`LabError`].
//!
//! # Two dialects
//!
//! Netkit 2.8 (the reference; Netkit-NG and -JH are compatible) and Kathara share the
//! `vm[arg]=value` core and disagree on almost everything around it:
//!
//! | | Netkit ([`Dialect::Netkit`]) | Kathara ([`Dialect::Kathara`]) |
//! |---|---|---|
//! | other lines | comments (free text allowed; a line that looks like a broken definition is warned about) | syntax error |
//! | duplicate `vm[opt]` | **first wins**, warning | **last wins**, warning |
//! | duplicate `vm[N]` | first wins, warning | error |
//! | value | blanks deleted; `"..."` / `'...'` kept verbatim (Kathara extension) | optionally quoted, no quotes inside, trailing ` # comment` |
//! | machine names | letters, digits, `_ . -` | `[a-z0-9_]{1,30}` |
//! | collision domains | `, . _` stripped with a warning, then letters, digits, `-` | `\w+` (`_` allowed, `-` not) |
//! | interfaces | any numbers, gaps allowed | contiguous from 0 (error with a hint) |
//! | a machine twice on one domain | warning | error |
//! | machine list | `machines="a b"` / `LAB_MACHINES=a,b`, else lab.conf entries plus folders | lab.conf entries plus folders |
//! | `LAB_*` | shell quoting (`eval`ed by Netkit); unknown ones warned | the six Kathara knows; others are errors |
//!
//! Both accept `CD/xx:xx:xx:xx:xx:xx` (fixed MAC), `tap,TAP_ADDR,GUEST_ADDR` (and
//! Netkit-JH's `NAME,TAP_ADDR,GUEST_ADDR`), CRLF line endings and a BOM (with a warning
//! for CRLF, which breaks real Netkit), and a trailing ` # comment`.
//!
//! **Detection** ([`conf::detect_dialect`]): Kathara when the file uses Kathara-only syntax
//! (`LAB_NAME`, quoted values, `CD/MAC`, `_` in a domain, metas such as `image`,
//! `bridged`, `sysctl`, a memory unit) and nothing Kathara would reject (`machines=`,
//! `LAB_MACHINES=`, free text, one-letter or UML options, upper-case names, interface
//! gaps); Netkit otherwise, including the plain common subset. A file with both kinds is
//! read as Netkit (which accepts Kathara's extensions) with a warning that names a line
//! of each. `--dialect` overrides detection.
//!
//! **First wins or last wins.** Netkit's lstart greps each `vm[arg]` and keeps the first;
//! Kathara's parser overwrites metas as it reads. Labs written for one can depend on it,
//! so we follow the dialect rather than pick one, and always warn with both line
//! numbers. Repeatable options (`sysctl`, `env`, and Kathara's `exec`) accumulate in
//! file order in both. `LAB_*` variables are last-wins in both (Netkit `eval`s them).
//!
//! # Options
//!
//! [`MachineOptions`] types what a UML launcher can honour: `mem`/`M` (MiB, with or
//! without `m`/`g`), `image`, `exec`/`e`, `ipv6`, `sysctl`, `env`, `con0`, `con1`,
//! `kernel`/`k`, `append`. Other Netkit vstart options (`D`, `no-hosthome`, `model-fs`,
//! ...) are kept raw with their vstart rendering ([`conf::RawOption::vstart_args`]);
//! Kathara metas with no UML meaning (`bridged`, `port`, `cpus`, ...) and unknown options
//! are kept raw with a warning. Kathara's `image` maps onto a flowlab [`Image`]:
//! `kathara/base`, `kathara/frr`, `kathara/quagga` (any tag or registry) run on the
//! Debian image; `busybox` on the busybox image; anything else warns and uses the
//! launcher's default.
//!
//! # Machines and order
//!
//! With `machines=`/`LAB_MACHINES=` (Netkit) the list is the lab and its start order; a
//! listed machine needs no folder, and folders or lab.conf entries outside the list are
//! ignored with a warning. Otherwise the machines are the lab.conf entries plus the
//! folders, in `ls` (byte) order. Hidden folders and the reserved `shared`, `_test`,
//! `CVS` are never machines; a folder whose name cannot be a machine is skipped with a
//! warning. `lab.dep` ([`dep`]) is checked (unknown names and cycles are errors naming
//! the `file:line` and the cycle) and drives [`StartPlan`], a sans-IO scheduler with a
//! concurrency cap.
//!
//! # Deliberate differences from Netkit
//!
//! Netkit 2.8 ignores lab.conf lines of machines that have no folder; we create the
//! machine (as Kathara does), since a machine with only a startup file is common.
//! Collision-domain names are restricted to what makes a safe socket name. Interface
//! numbers stop at [`conf::MAX_INTERFACES`]. `lab.dep` cycles and unknown names, which
//! make silently ignored, are errors.
//!
//! # Errors and warnings
//!
//! A [`LabError`] carries the file, the line, the offending text and a hint ("Kathara
//! requires interfaces numbered from 0: add `r1[0]=...` or use --dialect netkit");
//! nothing is started on an error. [`Warning`]s (`file:line: message`) come back beside
//! the lab for the caller to print. No input makes the parsers panic (property-tested).
//!
//! # The picture
//!
//! [`Addresses::collect`] finds interface addresses and routes in startup files, zebra
//! configuration and `/etc/network/interfaces` (best effort, see [`addresses`]);
//! [`topology_svg`] draws machines, domains, interface names and addresses.

pub mod addresses;
pub mod conf;
pub mod dep;
pub mod error;
pub mod folder;
pub mod model;
mod shellwords;
pub mod svg;
#[cfg(test)]
mod testutil;

pub use addresses::{Addresses, IfAddr, MachineAddresses, Route};
pub use conf::{
    detect_dialect, Dialect, InterfaceConf, LabConf, LabInfo, MacAddr, MachineOptions, TapSpec,
};
pub use dep::{LabDep, StartPlan, StartState};
pub use error::{LabError, LabErrorKind, Warning};
pub use folder::LabListing;
pub use model::{Attachment, CollisionDomain, Image, Interface, Lab, Machine};
pub use svg::topology_svg;
