//! The `flowlab` binary without guests: usage errors, `info --topology` on the example
//! labs, bad labs (line-numbered errors, nothing started), `clean` on a lab never
//! started, the tap refusal for a normal user.

mod cli_support;

use std::fs;
use std::path::Path;
use std::process::Command;

use cli_support::*;

#[test]
fn usage_errors_exit_2_with_the_usage() {
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["start", "--bogus"],
        vec!["start", "--switch", "bridge"],
        vec!["start", "--switch", "hub", "--openflow"],
        vec!["start", "--apps", "hub"],
        vec!["exec", "pc1"],
        vec!["vm", "start", "a", "--ethX=A"],
        vec!["image", "build", "--kind", "alpine"],
    ] {
        let o = flowlab(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains("usage: flowlab COMMAND"), "{args:?}: {e}");
        assert!(e.starts_with("flowlab: "), "{args:?}: {e}");
    }
    let o = flowlab(&["start", "--bogus"], None);
    assert!(stderr(&o).contains("`--bogus`"), "{}", stderr(&o));
    let o = flowlab(&["--help"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("vm start NAME --eth0=CD"));
    let o = flowlab(&["--version"], None);
    assert!(stdout(&o).starts_with("flowlab "));
}

/// Collects every text node of an SVG document.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the picture is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(str::to_string)
        .collect()
}

#[test]
fn info_draws_every_example_lab() {
    let t = TempDir::new("fli");
    for name in EXAMPLES {
        let lab = copy_example(name, &t.join(name));
        let before = listing(&lab);
        let svg = t.join(&format!("{name}.svg"));
        let o = flowlab(
            &[
                "info",
                "-d",
                lab.to_str().unwrap(),
                "--topology",
                svg.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let texts = svg_texts(&fs::read_to_string(&svg).unwrap());
        let all = texts.join("\n");
        let out = stdout(&o);
        let machines: &[&str] = &["pc1", "pc2"];
        let routers: &[&str] = if name == "two-hosts" {
            &[]
        } else {
            &["r1", "r2", "r3"]
        };
        let domains: &[&str] = if name == "two-hosts" {
            &["A"]
        } else {
            &["A", "B", "C", "D"]
        };
        for m in machines.iter().chain(routers) {
            assert!(
                texts.iter().any(|t| t.trim() == *m),
                "{name}: no `{m}` in {all}"
            );
            assert!(out.contains(&format!("  {m} ")), "{name}: {out}");
        }
        for d in domains {
            assert!(
                texts.iter().any(|t| t.trim() == *d),
                "{name}: no domain `{d}` in {all}"
            );
            assert!(out.contains(&format!("  {d}: ")), "{name}: {out}");
        }
        // Interface names and the addresses of the startup files are in the picture.
        assert!(all.contains("eth0"), "{all}");
        let pc1 = if name == "two-hosts" {
            "198.51.100.1/24"
        } else {
            "198.51.100.10/26"
        };
        assert!(all.contains(pc1), "{name}: {all}");
        assert!(out.contains(pc1), "{name}: {out}");
        // Nothing was started or written besides the picture.
        assert_eq!(listing(&lab), before, "{name}");
    }
    // The RIP lab is a Kathara lab on the Debian image.
    let o = flowlab(&["info", "-d", t.join("rip").to_str().unwrap()], None);
    let out = stdout(&o);
    assert!(
        out.contains("(kathara dialect)") && out.contains("debian (kathara/frr), stopped"),
        "{out}"
    );
}

#[test]
fn bad_labs_give_line_numbered_errors_and_start_nothing() {
    let t = TempDir::new("flb");
    let lab = copy_example("two-hosts", &t.join("lab"));
    let before = listing(&lab);
    let d = lab.to_str().unwrap();
    let cases: [(&str, &str, &str); 3] = [
        (
            "lab.conf",
            "LAB_DESCRIPTION=\"x\"\npc1[0]=A\npc2[0]=tap,10.0.0.1\n",
            "lab.conf:3: invalid tap domain",
        ),
        ("lab.dep", "pc1: pc2\npc2: pc1\n", "lab.dep:"),
        (
            "lab.dep",
            "# order\npc1: pc9\n",
            "lab.dep:2: unknown machine `pc9`",
        ),
    ];
    for (file, text, want) in cases {
        let saved = fs::read_to_string(lab.join("lab.conf")).unwrap();
        fs::write(lab.join(file), text).unwrap();
        for args in [
            vec!["start", "-d", d],
            vec!["test", "-d", d],
            vec!["info", "-d", d],
        ] {
            let o = flowlab(&args, Some(&t.join("data")));
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            let e = stderr(&o);
            assert!(e.contains(want), "{args:?}: {e}");
            assert!(e.contains("hint:") || file == "lab.dep", "{e}");
            assert!(e.contains("nothing was started"), "{e}");
            assert!(
                !lab.join(".flowlab").exists(),
                "{args:?} left .flowlab behind"
            );
            assert!(!t.join("data").exists(), "{args:?} built an image");
        }
        if file == "lab.dep" {
            fs::remove_file(lab.join(file)).unwrap();
        } else {
            fs::write(lab.join(file), saved).unwrap();
        }
    }
    assert_eq!(listing(&lab), before);
    // Not a lab at all.
    let o = flowlab(&["start", "-d", t.0.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a lab directory"), "{}", stderr(&o));
    let o = flowlab(&["start", "-d", "/nonexistent/flowlab/lab"], None);
    assert!(
        stderr(&o).contains("no such lab directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn clean_on_a_never_started_lab_is_idempotent() {
    let t = TempDir::new("flc");
    let lab = copy_example("static-routes", &t.join("lab"));
    fs::write(lab.join("notes.ready.txt"), "not ours").unwrap();
    let before = listing(&lab);
    for _ in 0..2 {
        let o = flowlab(&["clean", "-d", lab.to_str().unwrap()], None);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("nothing to clean"), "{}", stderr(&o));
        assert_eq!(listing(&lab), before);
    }
    // A stale .ready of a lab machine goes; nothing else does.
    fs::write(lab.join("r2.ready"), "").unwrap();
    let o = flowlab(&["clean", "-d", lab.to_str().unwrap()], None);
    assert!(o.status.success());
    assert_eq!(listing(&lab), before);
    // Commands on machines that do not run say so.
    let o = flowlab(
        &["exec", "-d", lab.to_str().unwrap(), "r1", "--", "true"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("machine r1 of lab"), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
    let o = flowlab(&["halt", "-d", lab.to_str().unwrap()], None);
    assert!(o.status.success());
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
    let o = flowlab(&["capture", "-d", lab.to_str().unwrap(), "A"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("has no running hub"), "{}", stderr(&o));
    assert_eq!(listing(&lab), before);
}

/// A tap domain needs root: as a normal user the lab is refused before anything starts.
/// Run as `nobody` through setpriv when the tests run as root.
#[test]
fn tap_domain_is_refused_without_root() {
    let t = TempDir::new("flt");
    let lab = copy_example("two-hosts", &t.join("lab"));
    fs::write(
        lab.join("lab.conf"),
        "pc1[0]=A\npc2[0]=A\npc2[1]=tap,203.0.113.1,203.0.113.2\n",
    )
    .unwrap();
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        let setpriv = Path::new("/usr/bin/setpriv");
        if !setpriv.is_file() {
            eprintln!("SKIP: running as root and setpriv (util-linux) is missing");
            return;
        }
        // nobody must be able to reach the lab and the binary.
        for p in [&t.0, &lab] {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut c = Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(flowlab_bin());
        c
    } else {
        Command::new(flowlab_bin())
    };
    let o = cmd
        .args(["start", "-d"])
        .arg(&lab)
        .env("FLOWLAB_DATA", t.join("data"))
        .output()
        .unwrap();
    let e = stderr(&o);
    if root && e.contains("Permission denied") {
        eprintln!("SKIP: nobody cannot run {}: {e}", flowlab_bin().display());
        return;
    }
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("collision domain `tap` is a tap domain"), "{e}");
    assert!(e.contains("lab.conf:3") && e.contains("needs root"), "{e}");
    assert!(!lab.join(".flowlab").exists());
    assert!(!t.join("data").exists());
}

/// `image prune` removes cached images that the current flowlab would not use (here:
/// stand-ins named like images of an older build) and keeps the current one and the other
/// kind's.
#[test]
fn image_prune_removes_only_stale_images() {
    if !Path::new("/bin/busybox").exists() && !Path::new("/usr/bin/busybox").exists() {
        return;
    }
    let t = TempDir::new("flprune");
    let data = t.join("data");
    let o = flowlab(&["image", "build", "--kind", "busybox"], Some(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    let current = std::path::PathBuf::from(stdout(&o).trim());
    let images = data.join("images");
    let stale = images.join("busybox-0000000000000000.img");
    fs::write(&stale, b"an image of an older flowlab").unwrap();
    fs::write(stale.with_extension("stamp"), b"stamp").unwrap();
    let other = images.join("debian-0000000000000000.img");
    fs::write(&other, b"another kind").unwrap();

    let o = flowlab(&["image", "prune", "--kind", "busybox"], Some(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("removed {}", stale.display())),
        "{}",
        stdout(&o)
    );
    assert!(!stale.exists() && !stale.with_extension("stamp").exists());
    assert!(current.exists(), "the current image stays");
    assert!(other.exists(), "--kind busybox leaves debian images alone");
    let o = flowlab(&["image", "prune", "--kind", "busybox"], Some(&data));
    assert!(stderr(&o).contains("nothing to prune"), "{}", stderr(&o));
}
