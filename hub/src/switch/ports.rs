//! Port lifecycle: numbering, installing a port in the loop, removal (which purges its
//! MAC entries and unlinks its socket file), and v0 clients behind the shared data socket.

use super::*;

/// A v0 client: no socket of its own, reached through the shared data socket.
#[derive(Debug)]
pub(super) struct V0Port {
    pub(super) shared: RawFd,
    pub(super) dest: UnixAddr,
}

impl Port for V0Port {
    fn fd(&self) -> RawFd {
        self.shared
    }
    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        Ok(0)
    }
    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        // An unconnected peer cannot be waited on: a full v0 client loses the rest.
        let n = send_batch_to(self.shared, Some(&self.dest), frames, errors)?;
        *errors += (frames.len() - n) as u64;
        Ok(frames.len())
    }
    fn kind(&self) -> &'static str {
        "uml-v0"
    }
}

pub(super) struct SharedV0 {
    pub(super) fd: OwnedFd,
    pub(super) path: PathBuf,
    pub(super) by_addr: HashMap<UnixAddr, u32>,
    pub(super) addrs: Box<[UnixAddr; BATCH]>,
}

impl Switch {
    pub(super) fn free_port_number(&self, wanted: u32) -> Option<u32> {
        let w = wanted as usize;
        if w > 0 && w < MAX_PORTS && self.ports.get(w).is_none_or(|s| s.is_none()) {
            return Some(wanted);
        }
        if w > 0 {
            return None;
        }
        (1..MAX_PORTS)
            .find(|&n| self.ports.get(n).is_none_or(|s| s.is_none()))
            .map(|n| n as u32)
    }

    pub(super) fn add_port(
        &mut self,
        io: Box<dyn Port>,
        conn: Option<usize>,
        name: String,
        peer: String,
        dump: bool,
    ) -> io::Result<u32> {
        let n = self
            .free_port_number(0)
            .ok_or_else(|| io::Error::other("no free port number"))?;
        self.install_port(n, io, conn, name, peer, dump)?;
        Ok(n)
    }

    pub(super) fn install_port(
        &mut self,
        n: u32,
        io: Box<dyn Port>,
        conn: Option<usize>,
        name: String,
        peer: String,
        dump: bool,
    ) -> io::Result<()> {
        let registered = io.kind() != "uml-v0";
        if registered {
            self.epoll_add(io.fd(), TOKEN_PORT | n as u64, libc::EPOLLIN as u32)?;
        }
        if self.ports.len() <= n as usize {
            self.ports.resize_with(n as usize + 1, || None);
        }
        self.ports[n as usize] = Some(PortSlot {
            io,
            conn,
            name,
            peer,
            counters: PortCounters::default(),
            queue: OutputQueue::new(self.args.port_queue),
            want_out: false,
            dump,
            registered,
            link_up: true,
        });
        if dump {
            self.dump_ports.push(n);
        }
        self.stats.ports_created += 1;
        if !dump {
            self.of_port_added(n);
        }
        Ok(())
    }

    pub(super) fn remove_port(&mut self, n: u32) {
        let Some(slot) = self.ports.get_mut(n as usize).and_then(Option::take) else {
            return;
        };
        if slot.registered {
            self.epoll_del(slot.io.fd());
        }
        if let Some(shared) = &mut self.shared {
            shared.by_addr.retain(|_, p| *p != n);
        }
        self.dump_ports.retain(|&p| p != n);
        self.forwarding.macs_mut().purge_port(n);
        if !slot.dump {
            self.of_port_removed(n);
        }
        self.stats.ports_removed += 1;
        drop(slot); // closes the socket and unlinks its file
    }

    /// Opens a `--port N=raw:IFNAME|tap:DEV` port under its fixed number.
    pub(super) fn open_extra_port(&mut self, p: &crate::cli::ExtraPort) -> Result<(), StartError> {
        use crate::cli::ExtraPortKind;
        let (io, name, peer): (Box<dyn Port>, String, String) = match &p.kind {
            ExtraPortKind::Raw(ifname) => {
                let port =
                    flowlab_datapath::port::RawPort::open(ifname).map_err(|e| StartError::Io {
                        what: format!("--port {}=raw:{ifname}", p.number),
                        source: io::Error::other(e.to_string()),
                    })?;
                (Box::new(port), format!("raw {ifname}"), ifname.clone())
            }
            ExtraPortKind::Tap(dev) => {
                let port =
                    TapPort::open(dev).map_err(io_err(format!("--port {}=tap:{dev}", p.number)))?;
                (Box::new(port), format!("tap {dev}"), dev.clone())
            }
        };
        if self.port_exists(p.number) {
            return Err(io_err(format!("--port {}", p.number))(io::Error::other(
                "port number taken",
            )));
        }
        self.install_port(p.number, io, None, name, peer, false)
            .map_err(io_err(format!("--port {}", p.number)))
    }

    pub(super) fn port_exists(&self, p: u32) -> bool {
        self.ports.get(p as usize).is_some_and(Option::is_some)
    }
}
