//! The in-process do-nothing controller for `--self-test`: it measures the harness's own
//! ceiling, the rate at which the emulated switches can send packet_ins and count answers
//! when the controller costs (almost) nothing.
//!
//! One thread, one epoll loop, like a single-threaded controller. On a new connection it
//! sends HELLO and FEATURES_REQUEST; it answers ECHO_REQUEST, and each PACKET_IN with one
//! FLOW_MOD for the packet's buffer, patched into a template built once with the codec.
//! Nothing is decoded on the way: messages are framed and told apart by their header.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use flowlab_openflow::{encode, Hello, Message};

use super::poller::{Endpoint, Epoll, Listener, Stream, HUP, IN, OUT};
use super::wire::{self, FlowModTemplate, ECHO_REQUEST, PACKET_IN};

/// A running responder; stopped and joined on drop.
#[derive(Debug)]
pub struct Responder {
    endpoint: Endpoint,
    tid: Arc<AtomicI32>,
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

struct Peer {
    stream: Stream,
    inbuf: Vec<u8>,
    in_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    writing: bool,
}

const LISTENER: u64 = u64::MAX;

impl Responder {
    /// Starts a responder on TCP 127.0.0.1 (an ephemeral port), or on a unix socket at
    /// `unix` if given.
    pub fn start(of13: bool, unix: Option<&std::path::Path>) -> Result<Responder> {
        let listener = match unix {
            Some(p) => {
                let _ = std::fs::remove_file(p);
                let l = std::os::unix::net::UnixListener::bind(p)
                    .with_context(|| format!("binding {}", p.display()))?;
                l.set_nonblocking(true)?;
                Listener::Unix(l)
            }
            None => {
                let l =
                    std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
                l.set_nonblocking(true)?;
                Listener::Tcp(l)
            }
        };
        let endpoint = listener.endpoint()?;
        let tid = Arc::new(AtomicI32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (t, s) = (Arc::clone(&tid), Arc::clone(&stop));
        let handle = thread::Builder::new()
            .name("responder".into())
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                t.store(unsafe { libc::gettid() }, Ordering::Release);
                if let Err(e) = serve(listener, of13, &s) {
                    eprintln!("== responder: {e}");
                }
            })?;
        let r = Responder {
            endpoint,
            tid,
            stop,
            handle: Some(handle),
        };
        while r.tid.load(Ordering::Acquire) == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        Ok(r)
    }

    /// Where switches connect.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The responder thread's id (for its CPU time).
    pub fn tid(&self) -> i32 {
        self.tid.load(Ordering::Acquire)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        if let Endpoint::Unix(p) = &self.endpoint {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn serve(listener: Listener, of13: bool, stop: &AtomicBool) -> io::Result<()> {
    let version = wire::version(of13);
    let flow_mod = FlowModTemplate::new(of13);
    let mut greeting = Vec::new();
    let hello = if of13 {
        Hello::with_versions(&[version])
    } else {
        Hello::default()
    };
    encode(version, 1, &Message::Hello(hello), &mut greeting)
        .and_then(|()| encode(version, 2, &Message::FeaturesRequest, &mut greeting))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let mut ep = Epoll::new()?;
    ep.add(listener.as_raw_fd(), IN, LISTENER)?;
    let mut peers: Vec<Option<Peer>> = Vec::new();
    let mut xid: u32 = 100;
    while !stop.load(Ordering::Acquire) {
        for (token, ev) in ep.wait(20)? {
            if token == LISTENER {
                loop {
                    match listener.accept() {
                        Ok(stream) => {
                            stream.set_nonblocking()?;
                            let t = peers.len() as u64;
                            ep.add(stream.as_raw_fd(), IN | OUT, t)?;
                            peers.push(Some(Peer {
                                stream,
                                inbuf: vec![0; 256 * 1024],
                                in_len: 0,
                                out: greeting.clone(),
                                out_pos: 0,
                                writing: true,
                            }));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let Some(slot) = peers.get_mut(token as usize) else {
                continue;
            };
            let Some(p) = slot.as_mut() else {
                continue;
            };
            let mut closed = false;
            if ev & (IN | HUP) != 0 {
                match p.stream.read(&mut p.inbuf[p.in_len..]) {
                    Ok(0) => closed = true,
                    Ok(n) => {
                        p.in_len += n;
                        let mut pos = 0;
                        while let Some(Ok(len)) =
                            flowlab_openflow::frame_len(&p.inbuf[pos..p.in_len])
                        {
                            if pos + len > p.in_len {
                                break;
                            }
                            let m = &p.inbuf[pos..pos + len];
                            match m[1] {
                                PACKET_IN => {
                                    if let Some(b) = wire::packet_in_buffer_id(m) {
                                        xid = xid.wrapping_add(1);
                                        flow_mod.push(&mut p.out, xid, b);
                                    }
                                }
                                ECHO_REQUEST => {
                                    let start = p.out.len();
                                    p.out.extend_from_slice(m);
                                    p.out[start + 1] = wire::ECHO_REQUEST + 1;
                                }
                                _ => {}
                            }
                            pos += len;
                        }
                        p.inbuf.copy_within(pos..p.in_len, 0);
                        p.in_len -= pos;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => closed = true,
                }
            }
            if !closed && p.out_pos < p.out.len() {
                match p.stream.write(&p.out[p.out_pos..]) {
                    Ok(n) => p.out_pos += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => closed = true,
                }
                if p.out_pos == p.out.len() {
                    p.out.clear();
                    p.out_pos = 0;
                } else if p.out_pos > 1 << 20 {
                    p.out.drain(..p.out_pos);
                    p.out_pos = 0;
                }
            }
            if closed {
                let _ = ep.delete(p.stream.as_raw_fd());
                *slot = None;
                continue;
            }
            let want_out = p.out_pos < p.out.len();
            if want_out != p.writing {
                p.writing = want_out;
                ep.modify(
                    p.stream.as_raw_fd(),
                    if want_out { IN | OUT } else { IN },
                    token,
                )?;
            }
        }
    }
    Ok(())
}
