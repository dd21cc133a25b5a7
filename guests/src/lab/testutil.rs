//! Test fixtures: lab directories written under the system temp dir, removed on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temporary lab directory with a unique name.
pub(crate) struct TempLab {
    path: PathBuf,
}

impl TempLab {
    pub(crate) fn new(tag: &str) -> TempLab {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("flowlab-lab-test-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp lab");
        TempLab { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `rel` (parents created).
    pub(crate) fn file(&self, rel: &str, text: &str) {
        self.bytes(rel, text.as_bytes());
    }

    pub(crate) fn bytes(&self, rel: &str, data: &[u8]) {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create parent");
        }
        fs::write(p, data).expect("write fixture");
    }

    pub(crate) fn dir(&self, rel: &str) {
        fs::create_dir_all(self.path.join(rel)).expect("create dir");
    }
}

impl Drop for TempLab {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The example of Netkit's lab.conf(5), with folders, startup files, `shared/` and `_test/`.
pub(crate) fn netkit_man_lab() -> TempLab {
    let t = TempLab::new("netkit-man");
    t.file(
        "lab.conf",
        "LAB_DESCRIPTION=\"the lab.conf(5) example\"\n\
         machines=\"pc1 pc2 router\"\n\
         pc1[0]=CD1\n\
         pc2[0]=CD2\n\
         router[0]=CD1\n\
         router[1]=CD2\n\
         pc1[mem]=64\n\
         router[mem]=128\n",
    );
    t.dir("pc1");
    t.file("router/etc/zebra/zebra.conf", "hostname router\n");
    t.dir("shared");
    t.dir("_test");
    t.file(
        "pc1.startup",
        "ifconfig eth0 192.168.1.2 netmask 255.255.255.0 up\nroute add default gw 192.168.1.1\n",
    );
    t.file(
        "router.startup",
        "ifconfig eth0 192.168.1.1 netmask 255.255.255.0 up\n\
         ifconfig eth1 192.168.2.1 netmask 255.255.255.0 up\n\
         /etc/init.d/zebra start\n",
    );
    t.file("shared.startup", "echo booting\n");
    t
}

/// Two hosts on one collision domain (the first example lab).
pub(crate) fn two_host_lab() -> TempLab {
    let t = TempLab::new("two-host");
    t.file(
        "lab.conf",
        "LAB_DESCRIPTION=\"two hosts\"\npc1[0]=A\npc2[0]=A\n",
    );
    t.dir("pc1");
    t.dir("pc2");
    t.file(
        "pc1.startup",
        "ip addr add 198.51.100.1/24 dev eth0\nip link set eth0 up\n",
    );
    t.file("pc2.startup", "ifconfig eth0 198.51.100.2/24 up\n");
    t
}

/// Three routers with static routes across two domains (Netkit style).
pub(crate) fn static_routes_lab() -> TempLab {
    let t = TempLab::new("static");
    t.file(
        "lab.conf",
        "LAB_DESCRIPTION=\"three routers, static routes\"\n\
         r1[0]=A\n\
         r2[0]=A\n\
         r2[1]=B\n\
         r3[0]=B\n",
    );
    for r in ["r1", "r2", "r3"] {
        t.dir(r);
    }
    t.file(
        "r1.startup",
        "ip addr add 10.0.1.1/24 dev eth0\nip link set eth0 up\nip route add 10.0.2.0/24 via 10.0.1.2\n",
    );
    t.file(
        "r2.startup",
        "ifconfig eth0 10.0.1.2 netmask 255.255.255.0 up\n\
         ifconfig eth1 10.0.2.2/24 up\n\
         echo 1 > /proc/sys/net/ipv4/ip_forward\n",
    );
    t.file(
        "r3.startup",
        "# r3: one leg\nip address add 10.0.2.3/24 dev eth0\nroute add default gw 10.0.2.2\n",
    );
    t
}

/// A RIP lab: three FRR routers in a line, a host at each end, lab.dep for the order.
pub(crate) fn rip_lab() -> TempLab {
    let t = TempLab::new("rip");
    t.file(
        "lab.conf",
        "LAB_DESCRIPTION=\"RIP with FRR\"\n\
         pc1[0]=A\n\
         r1[0]=A\n\
         r1[1]=B\n\
         r1[image]=kathara/frr\n\
         r2[0]=B\n\
         r2[1]=C\n\
         r2[image]=kathara/frr\n\
         r3[0]=C\n\
         r3[1]=D\n\
         r3[image]=kathara/frr\n\
         pc2[0]=D\n",
    );
    t.file("lab.dep", "# hosts after their routers\npc1: r1\npc2: r3\n");
    let addrs = [
        ("r1", "10.0.1.1/24", "10.0.2.1/24"),
        ("r2", "10.0.2.2/24", "10.0.3.2/24"),
        ("r3", "10.0.3.3/24", "10.0.4.3/24"),
    ];
    for (r, a, b) in addrs {
        t.file(
            &format!("{r}.startup"),
            &format!("ip addr add {a} dev eth0\nip addr add {b} dev eth1\nsystemctl start frr\n"),
        );
        t.file(
            &format!("{r}/etc/frr/frr.conf"),
            "router rip\n network 10.0.0.0/8\n",
        );
    }
    t.file(
        "pc1.startup",
        "ip addr add 10.0.1.10/24 dev eth0\nip route add default via 10.0.1.1\n",
    );
    t.file(
        "pc2.startup",
        "ip addr add 10.0.4.10/24 dev eth0\nip route add default via 10.0.4.3\n",
    );
    t
}

/// A Kathara lab: FRR images, a fixed MAC, a domain with `_`, an image flowlab lacks.
pub(crate) fn kathara_frr_lab() -> TempLab {
    let t = TempLab::new("kathara");
    t.file(
        "lab.conf",
        "LAB_NAME=\"frr-bgp\"\n\
         LAB_DESCRIPTION=\"two routers speaking BGP\"\n\
         \n\
         router1[0]=\"A/02:42:ac:11:00:01\"\n\
         router1[1]=\"ext_net\"\n\
         router1[image]=\"kathara/frr\"\n\
         router2[0]=\"A\"\n\
         router2[image]=\"kathara/frr:latest\"\n\
         dns[image]=\"kathara/bind\"\n\
         dns[0]=\"ext_net\"\n",
    );
    t.file(
        "router1/etc/frr/frr.conf",
        "interface eth1\n ip address 203.0.113.1/24\n!\nrouter bgp 65001\n",
    );
    t.dir("router2");
    t.dir("ws");
    t.dir("PC9");
    t.file(
        "router1.startup",
        "ip address add 10.0.0.1/24 dev eth0\nip -6 addr add 2001:db8::1/64 dev eth1\nsystemctl start frr\n",
    );
    t.file(
        "router2.startup",
        "ip a a 10.0.0.2/24 dev eth0\nsystemctl start frr\n",
    );
    t
}
