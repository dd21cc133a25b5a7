//! The topology picture of `flowlab info --topology FILE.svg`, drawn without starting
//! anything.
//!
//! Layout (deterministic, no overlaps by construction): machines are boxes stacked in one
//! column on the left, in lab order. Each collision domain is a vertical bus to the right,
//! its name in a pill at the top; buses are ordered by their first attachment so most links
//! run short. Every interface is a horizontal link from its machine's box to its domain's
//! bus, in its own row of the box, labelled `ethN ADDRESS...` in a label column between
//! the boxes and the first bus. So labels never meet each other (one row each), boxes (a
//! column of their own) or buses (the column ends before the first bus); pills are spaced
//! by their widths. Text widths are estimated for a 12 px monospace font, generously.

use std::fmt::Write as _;

use super::addresses::Addresses;
use super::model::Lab;

const CHAR_W: f64 = 7.5;
const FONT: f64 = 12.0;
const LINE_H: f64 = 16.0;
const ROW_H: f64 = 26.0;
const PAD: f64 = 8.0;
const MARGIN: f64 = 20.0;
const GAP_Y: f64 = 14.0;
const LABEL_GAP: f64 = 8.0;
const BUS_MIN_SPACING: f64 = 40.0;
const PILL_H: f64 = 22.0;
const MAX_ADDRS: usize = 3;

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn right(&self) -> f64 {
        self.x + self.w
    }

    #[cfg(test)]
    fn bottom(&self) -> f64 {
        self.y + self.h
    }

    #[cfg(test)]
    fn intersects(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
}

fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

#[derive(Debug)]
struct MachineBox {
    name: String,
    gateway: Option<String>,
    rect: Rect,
}

#[derive(Debug)]
struct Link {
    y: f64,
    x1: f64,
    x2: f64,
    label: String,
    label_rect: Rect,
    domain: String,
}

#[derive(Debug)]
struct Bus {
    label: String,
    name: String,
    x: f64,
    y_top: f64,
    y_bottom: f64,
    pill: Rect,
    tap: bool,
}

#[derive(Debug)]
struct Layout {
    width: f64,
    height: f64,
    title: Option<(String, Rect)>,
    machines: Vec<MachineBox>,
    links: Vec<Link>,
    buses: Vec<Bus>,
}

fn layout(lab: &Lab, addrs: &Addresses) -> Layout {
    // Title.
    let title_text = match (&lab.info.name, &lab.info.description) {
        (Some(n), Some(d)) => Some(format!("{n}: {d}")),
        (Some(n), None) => Some(n.clone()),
        (None, Some(d)) => Some(d.clone()),
        (None, None) => None,
    };
    let mut y = MARGIN;
    let title = title_text.map(|t| {
        let r = Rect {
            x: MARGIN,
            y,
            w: text_w(&t),
            h: LINE_H,
        };
        y += LINE_H + 10.0;
        (t, r)
    });
    let pill_y = y;
    let machines_top = pill_y + PILL_H + 16.0;

    // Per-machine text.
    let labels: Vec<Vec<(String, String)>> = lab
        .machines
        .iter()
        .map(|m| {
            m.interfaces
                .iter()
                .map(|i| {
                    let name = i.name();
                    let found = addrs.interface(&m.name, &name);
                    let mut label = name;
                    for a in found.iter().take(MAX_ADDRS) {
                        label.push(' ');
                        label.push_str(&a.to_string());
                    }
                    if found.len() > MAX_ADDRS {
                        let _ = write!(label, " +{}", found.len() - MAX_ADDRS);
                    }
                    (label, i.domain.clone())
                })
                .collect()
        })
        .collect();
    let gateways: Vec<Option<String>> = lab
        .machines
        .iter()
        .map(|m| {
            let gws = addrs
                .machines
                .get(&m.name)
                .map(|a| a.default_gateways())
                .unwrap_or_default();
            (!gws.is_empty()).then(|| {
                let list: Vec<String> = gws.iter().take(2).map(|g| g.to_string()).collect();
                format!("gw {}", list.join(", "))
            })
        })
        .collect();

    let box_w = lab
        .machines
        .iter()
        .zip(&gateways)
        .map(|(m, g)| text_w(&m.name).max(g.as_deref().map(text_w).unwrap_or(0.0)))
        .fold(60.0_f64, f64::max)
        + 2.0 * PAD;
    let box_right = MARGIN + box_w;
    let label_x = box_right + LABEL_GAP;
    let label_col = labels
        .iter()
        .flatten()
        .map(|(l, _)| text_w(l))
        .fold(40.0_f64, f64::max);

    // Domains in order of first attachment.
    let mut order: Vec<(String, bool)> = Vec::new();
    for m in &lab.machines {
        for i in &m.interfaces {
            if !order.iter().any(|(d, _)| *d == i.domain) {
                order.push((i.domain.clone(), i.tap.is_some()));
            }
        }
    }
    for d in &lab.domains {
        if !order.iter().any(|(n, _)| *n == d.name) {
            order.push((d.name.clone(), d.tap.is_some()));
        }
    }
    let pill_labels: Vec<String> = order
        .iter()
        .map(|(name, tap)| {
            let t = lab.domain(name).and_then(|d| d.tap).filter(|_| *tap);
            match t {
                Some(t) => format!("{name} (tap {})", t.tap_addr),
                None => name.clone(),
            }
        })
        .collect();
    let pill_ws: Vec<f64> = pill_labels.iter().map(|l| text_w(l) + 2.0 * PAD).collect();
    let mut bus_xs: Vec<f64> = Vec::with_capacity(order.len());
    let first_min = label_x + label_col + 24.0;
    for (k, w) in pill_ws.iter().enumerate() {
        let x = match k {
            0 => first_min.max(MARGIN + w / 2.0),
            _ => {
                let prev = bus_xs[k - 1];
                prev + BUS_MIN_SPACING.max((pill_ws[k - 1] + w) / 2.0 + 10.0)
            }
        };
        bus_xs.push(x);
    }
    let bus_x = |d: &str| {
        order
            .iter()
            .position(|(n, _)| n == d)
            .and_then(|k| bus_xs.get(k).copied())
            .unwrap_or(first_min)
    };

    // Machines and links.
    let mut machines = Vec::new();
    let mut links = Vec::new();
    let mut y = machines_top;
    for ((m, ls), gw) in lab.machines.iter().zip(&labels).zip(&gateways) {
        let text_h = LINE_H * if gw.is_some() { 2.0 } else { 1.0 } + 2.0 * PAD;
        let rows_h = ls.len() as f64 * ROW_H + PAD;
        let h = text_h.max(rows_h).max(36.0);
        let rect = Rect {
            x: MARGIN,
            y,
            w: box_w,
            h,
        };
        for (j, (label, domain)) in ls.iter().enumerate() {
            let line_y = y + PAD / 2.0 + (j as f64 + 1.0) * ROW_H - 4.0;
            links.push(Link {
                y: line_y,
                x1: box_right,
                x2: bus_x(domain),
                label: label.clone(),
                label_rect: Rect {
                    x: label_x,
                    y: line_y - 16.0,
                    w: text_w(label),
                    h: 14.0,
                },
                domain: domain.clone(),
            });
        }
        machines.push(MachineBox {
            name: m.name.clone(),
            gateway: gw.clone(),
            rect,
        });
        y += h + GAP_Y;
    }
    let content_bottom = y - GAP_Y;

    let buses: Vec<Bus> = order
        .iter()
        .zip(&pill_labels)
        .zip(pill_ws.iter().zip(&bus_xs))
        .map(|(((name, tap), label), (w, x))| {
            let last = links
                .iter()
                .filter(|l| l.domain == *name)
                .map(|l| l.y)
                .fold(pill_y + PILL_H, f64::max);
            Bus {
                label: label.clone(),
                name: name.clone(),
                x: *x,
                y_top: pill_y + PILL_H,
                y_bottom: last + 10.0,
                pill: Rect {
                    x: x - w / 2.0,
                    y: pill_y,
                    w: *w,
                    h: PILL_H,
                },
                tap: *tap,
            }
        })
        .collect();

    let mut width = buses
        .last()
        .map(|b| b.pill.right())
        .unwrap_or(label_x + label_col)
        .max(label_x + label_col);
    if let Some((_, r)) = &title {
        width = width.max(r.right());
    }
    let height = content_bottom.max(pill_y + PILL_H) + MARGIN;
    Layout {
        width: width + MARGIN,
        height,
        title,
        machines,
        links,
        buses,
    }
}

/// Escapes text for XML content and attribute values; characters XML 1.0 cannot hold
/// become `?`.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// A standalone SVG picture of the lab: machines (boxes with names and default gateways),
/// collision domains (buses with their names), and one link per interface labelled with
/// its name and the addresses found in the lab's files. Deterministic for a given input.
pub fn topology_svg(lab: &Lab, addrs: &Addresses) -> String {
    let l = layout(lab, addrs);
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="DejaVu Sans Mono, monospace" font-size="{FONT:.0}">"#,
        w = l.width.ceil(),
        h = l.height.ceil()
    );
    let name = lab
        .info
        .name
        .clone()
        .or_else(|| {
            lab.dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "lab".into());
    let _ = writeln!(s, "<title>{}</title>", esc(&name));
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    if let Some((t, r)) = &l.title {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-weight="bold">{}</text>"#,
            r.x,
            r.y + 12.0,
            esc(t)
        );
    }
    let _ = writeln!(s, r#"<g class="domains">"#);
    for b in &l.buses {
        let dash = if b.tap {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#4a7ab5" stroke-width="4"{dash}/>"##,
            b.y_top,
            b.y_bottom,
            x = b.x
        );
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="11" fill="#dce8f7" stroke="#4a7ab5" data-domain="{}"/>"##,
            b.pill.x,
            b.pill.y,
            b.pill.w,
            b.pill.h,
            esc(&b.name)
        );
        if b.label == b.name {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                b.x,
                b.pill.y + 15.0,
                esc(&b.name)
            );
        } else {
            // The name in its own element, so that the domain is named exactly.
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle"><tspan>{}</tspan>{}</text>"#,
                b.x,
                b.pill.y + 15.0,
                esc(&b.name),
                esc(&b.label[b.name.len()..])
            );
        }
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(s, r#"<g class="links">"#);
    for k in &l.links {
        // A white halo first: where a link crosses a bus it is not attached to, the bus
        // shows a gap, so only the dots read as attachments.
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="white" stroke-width="6"/>"##,
            k.x1,
            k.x2,
            y = k.y
        );
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#555" stroke-width="1.5"/>"##,
            k.x1,
            k.x2,
            y = k.y
        );
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#4a7ab5"/>"##,
            k.x2, k.y
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#333">{}</text>"##,
            k.label_rect.x,
            k.y - 5.0,
            esc(&k.label)
        );
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(s, r#"<g class="machines">"#);
    for m in &l.machines {
        let r = m.rect;
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="4" fill="#fdf3d8" stroke="#9a7b22" data-machine="{}"/>"##,
            r.x,
            r.y,
            r.w,
            r.h,
            esc(&m.name)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-weight="bold">{}</text>"#,
            r.x + PAD,
            r.y + PAD + 12.0,
            esc(&m.name)
        );
        if let Some(g) = &m.gateway {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" fill="#555">{}</text>"##,
                r.x + PAD,
                r.y + PAD + 12.0 + LINE_H,
                esc(g)
            );
        }
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(s, "</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::folder::LabListing;
    use crate::lab::testutil;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn lab_from_conf(conf: &str) -> Lab {
        let listing = LabListing {
            dir: PathBuf::from("/nonexistent/lab"),
            entries: Vec::new(),
            conf: Some(conf.to_string()),
            dep: None,
        };
        Lab::from_listing(&listing, None).unwrap().0
    }

    /// Every `<text>` node's full text (its own text plus its children's).
    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("valid XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let mut out = Vec::new();
        for n in doc
            .descendants()
            .filter(|n| n.has_tag_name("text") || n.has_tag_name("tspan"))
        {
            let t: String = n
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect();
            out.push(t);
        }
        out
    }

    #[test]
    fn static_lab_picture_names_everything() {
        let t = testutil::static_routes_lab();
        let (lab, _) = Lab::load(t.path(), None).unwrap();
        let addrs = Addresses::collect(&lab);
        let svg = topology_svg(&lab, &addrs);
        let tx = texts(&svg);
        for m in ["r1", "r2", "r3"] {
            assert!(tx.iter().any(|t| t == m), "machine {m} in {tx:?}");
        }
        for d in ["A", "B"] {
            assert!(tx.iter().any(|t| t == d), "domain {d} in {tx:?}");
        }
        assert!(tx.iter().any(|t| t == "eth1 10.0.2.2/24"), "{tx:?}");
        assert!(tx.iter().any(|t| t == "gw 10.0.2.2"), "{tx:?}");
        assert!(
            tx.iter().any(|t| t == "three routers, static routes"),
            "{tx:?}"
        );
        // Deterministic.
        assert_eq!(svg, topology_svg(&lab, &addrs));
    }

    #[test]
    fn escapes_xml_and_marks_taps() {
        let lab = lab_from_conf(
            "LAB_DESCRIPTION=\"<b> & 'q' \\\"x\\\" \u{1}\"\npc1[0]=A\npc1[1]=tap,10.0.0.1,10.0.0.2\n",
        );
        let svg = topology_svg(&lab, &Addresses::default());
        let tx = texts(&svg);
        assert!(tx.iter().any(|t| t == "<b> & 'q' \"x\" ?"), "{tx:?}");
        assert!(tx.iter().any(|t| t == "tap (tap 10.0.0.1)"), "{tx:?}");
        assert!(tx.iter().any(|t| t == "tap"), "{tx:?}");
        assert!(svg.contains("stroke-dasharray"));
    }

    #[test]
    fn empty_lab_is_still_a_picture() {
        let lab = lab_from_conf("# nothing\n");
        let svg = topology_svg(&lab, &Addresses::default());
        let _ = texts(&svg);
    }

    fn assert_no_overlaps(l: &Layout) {
        let mut rects: Vec<(String, Rect)> = Vec::new();
        for m in &l.machines {
            rects.push((format!("box {}", m.name), m.rect));
        }
        for k in &l.links {
            rects.push((format!("label {}", k.label), k.label_rect));
        }
        for b in &l.buses {
            rects.push((format!("pill {}", b.name), b.pill));
        }
        if let Some((t, r)) = &l.title {
            rects.push((format!("title {t}"), *r));
        }
        for (i, (na, a)) in rects.iter().enumerate() {
            assert!(a.x >= 0.0 && a.y >= 0.0 && a.right() <= l.width && a.bottom() <= l.height);
            for (nb, b) in &rects[i + 1..] {
                assert!(!a.intersects(b), "{na} {a:?} overlaps {nb} {b:?}");
            }
        }
        // Labels end before the first bus; links start at their box.
        let first_bus = l.buses.iter().map(|b| b.x).fold(f64::INFINITY, f64::min);
        for k in &l.links {
            assert!(k.label_rect.right() < first_bus);
            assert!(k.x2 >= first_bus);
        }
    }

    #[test]
    fn example_labs_have_no_overlaps() {
        for t in [
            testutil::netkit_man_lab(),
            testutil::two_host_lab(),
            testutil::static_routes_lab(),
            testutil::rip_lab(),
            testutil::kathara_frr_lab(),
        ] {
            let (lab, _) = Lab::load(t.path(), None).unwrap();
            let addrs = Addresses::collect(&lab);
            assert_no_overlaps(&layout(&lab, &addrs));
            let tx = texts(&topology_svg(&lab, &addrs));
            for m in &lab.machines {
                assert!(tx.contains(&m.name), "{}", m.name);
            }
            for d in &lab.domains {
                assert!(tx.contains(&d.name), "{}", d.name);
            }
        }
    }

    proptest! {
        /// Up to 30 machines with up to 4 interfaces each on up to 12 domains, with
        /// addresses: no overlaps, every name present, valid XML.
        #[test]
        fn random_labs_have_no_overlaps(
            machines in proptest::collection::vec(
                proptest::collection::vec(0usize..12, 0..5),
                1..31,
            ),
            long_names in any::<bool>(),
        ) {
            let mut conf = String::from("LAB_DESCRIPTION=\"random\"\n");
            let mut script = Vec::new();
            for (i, ifs) in machines.iter().enumerate() {
                let name = if long_names { format!("machine-with-a-long-name-{i}") } else { format!("m{i}") };
                for (j, d) in ifs.iter().enumerate() {
                    let dom = if long_names { format!("domain-{d}-long") } else { format!("D{d}") };
                    conf.push_str(&format!("{name}[{j}]={dom}\n"));
                    script.push((name.clone(), j, i, *d));
                }
                if ifs.is_empty() {
                    conf.push_str(&format!("{name}[mem]=64\n"));
                }
            }
            let lab = lab_from_conf(&conf);
            let mut addrs = Addresses::default();
            for (name, j, i, d) in script {
                addrs.machines.entry(name).or_default().parse_script(&format!(
                    "ip addr add 10.{d}.{}.{}/24 dev eth{j}\nip -6 addr add 2001:db8:{d}::{i}/64 dev eth{j}\nroute add default gw 10.{d}.0.254\n",
                    i / 200, i % 200 + 1
                ));
            }
            let l = layout(&lab, &addrs);
            assert_no_overlaps(&l);
            let tx = texts(&topology_svg(&lab, &addrs));
            for m in &lab.machines {
                prop_assert!(tx.contains(&m.name));
            }
            for d in &lab.domains {
                prop_assert!(tx.contains(&d.name));
            }
        }
    }
}
