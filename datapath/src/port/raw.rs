//! AF_PACKET ports: a Linux network interface (a veth end, a NIC) as a switch port.
//!
//! A [`RawPort`] owns one `AF_PACKET`/`SOCK_RAW` socket bound to one interface for every
//! protocol (`ETH_P_ALL`), non-blocking, and moves whole Ethernet frames with
//! `recvmmsg`/`sendmmsg` like the other ports.
//!
//! # Seeing the wire frame
//!
//! A packet socket does not hand over exactly what was on the wire, and a switch must
//! forward exactly that. Four differences are undone here:
//!
//! - **VLAN tags.** The kernel strips an outer 802.1Q/802.1ad tag into the socket buffer's
//!   metadata before packet taps see the frame (drivers with VLAN offload do it in
//!   hardware, and `__netif_receive_skb_core` does it in software for everything else).
//!   The tag comes back only as `PACKET_AUXDATA` ancillary data: `tp_vlan_tci`, with
//!   `TP_STATUS_VLAN_VALID`, and `tp_vlan_tpid` with `TP_STATUS_VLAN_TPID_VALID` (absent on
//!   old kernels: then the TPID is 0x8100). [`RawPort::recv_batch`] re-inserts the 4-byte
//!   tag after the two MAC addresses, so a tagged frame leaves the port as it arrived.
//!   A frame that no longer fits the buffer once tagged is reported truncated. Only the
//!   outer tag is stripped; inner tags of a QinQ frame stay in the data.
//! - **Outgoing frames.** A packet socket also sees frames *leaving* the interface: the ones
//!   the interface's own network stack sends, and the ones other packet sockets send (the
//!   kernel never loops a socket's own frames back to it). They never crossed the wire
//!   towards the switch, and taking them as input would loop or duplicate traffic.
//!   `PACKET_IGNORE_OUTGOING` (Linux 4.20) stops them; when the kernel lacks it, outgoing
//!   frames (`sll_pkttype == PACKET_OUTGOING`) are dropped here instead.
//! - **Other hosts' frames.** The port joins promiscuous membership
//!   (`PACKET_MR_PROMISC`), so a real NIC delivers frames for every destination MAC. The
//!   membership is the socket's and ends when the port is dropped.
//! - **The race at open.** The socket is created with protocol 0 (it receives nothing) and
//!   starts receiving at `bind`, already restricted to its interface, so no frame from
//!   another interface can slip into the queue in between.
//!
//! # Checksum offload and segmentation offload
//!
//! A frame that a *local* network stack sent (a socket in a namespace whose veth end is the
//! peer of this port) usually carries a partial checksum: with transmit checksum offload
//! (on by default on veth) the stack leaves the L4 checksum to "hardware" that never exists
//! on a veth, and marks the frame `CHECKSUM_PARTIAL`. The packet socket reports this as
//! `TP_STATUS_CSUMNOTREADY`, and the bytes it delivers have a wrong TCP/UDP checksum.
//! Likewise, with TSO/GSO a "frame" can be a 64 KiB super-segment. A switch that forwards
//! those bytes to another port delivers a frame a real receiver drops. The port does not
//! repair them; it counts them ([`RawPort::csum_not_ready`]). Labs and tests turn the
//! offloads off on the interface that sends into the switch:
//!
//! ```text
//! ethtool -K <peer-of-port> tx off tso off gso off
//! ```
//!
//! (`tx off` alone also disables TSO, which depends on it). Frames injected by another
//! packet socket or by a userspace switch (Open vSwitch's netdev datapath, the OpenFlow
//! conformance tester) are complete and never partial.
//!
//! # Link down
//!
//! When the interface goes down the kernel posts `ENETDOWN` on the socket once and resumes
//! delivery when it comes back up. A link going down is not a broken port: receive reports
//! it as "nothing to read", and frames sent while it is down are counted as errors (lost,
//! as on a cable with no carrier). [`Port::link_up`] reads the interface's flags
//! (`IFF_UP` and `IFF_RUNNING`, i.e. administratively up with carrier), so a switch can
//! report the link's state to its controller as OpenFlow port status.

use std::ffi::CString;
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

use super::unix_dgram::{enlarge_buffers, SOCKET_BUFFER};
use super::{cvt, Port, RxBatch, BATCH};

/// Kernel ABI for packet sockets (`<linux/if_packet.h>`), stable since Linux 2.6/4.20.
mod sys {
    pub const ETH_P_ALL: u16 = 0x0003;
    pub const SOL_PACKET: libc::c_int = 263;
    pub const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
    pub const PACKET_AUXDATA: libc::c_int = 8;
    pub const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
    pub const PACKET_MR_PROMISC: libc::c_ushort = 1;
    pub const PACKET_OUTGOING: u8 = 4;
    pub const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
    pub const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
    pub const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
    pub const ETH_P_8021Q: u16 = 0x8100;

    /// `struct tpacket_auxdata`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    pub struct TpacketAuxdata {
        pub tp_status: u32,
        pub tp_len: u32,
        pub tp_snaplen: u32,
        pub tp_mac: u16,
        pub tp_net: u16,
        pub tp_vlan_tci: u16,
        pub tp_vlan_tpid: u16,
    }

    /// `struct packet_mreq`.
    #[repr(C)]
    pub struct PacketMreq {
        pub mr_ifindex: libc::c_int,
        pub mr_type: libc::c_ushort,
        pub mr_alen: libc::c_ushort,
        pub mr_address: [u8; 8],
    }
}

/// Where the destination and source MAC addresses end and a VLAN tag goes.
const TAG_OFFSET: usize = 12;
/// Length of an 802.1Q/802.1ad tag (TPID + TCI).
const TAG_LEN: usize = 4;
/// Ancillary data room per message, in u64 for alignment (cmsghdr + tpacket_auxdata fit).
const CONTROL_WORDS: usize = 8;

/// Why [`RawPort::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RawPortError {
    /// The name is empty, longer than `IFNAMSIZ - 1` bytes, or holds a NUL.
    #[error("invalid interface name '{0}'")]
    InvalidName(String),
    /// No interface of that name exists in this network namespace.
    #[error("no network interface '{0}' in this network namespace")]
    NoSuchInterface(String),
    /// Packet sockets need `CAP_NET_RAW` (root, or `setcap cap_net_raw+ep` on the binary).
    #[error("raw socket on '{0}' needs CAP_NET_RAW (run as root or grant the capability)")]
    PermissionDenied(String),
    /// Another system call failed while setting the socket up.
    #[error("{op} on '{ifname}': {source}")]
    Io {
        /// The step that failed ("socket", "bind", ...).
        op: &'static str,
        /// The interface.
        ifname: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
}

impl From<RawPortError> for io::Error {
    fn from(e: RawPortError) -> io::Error {
        let kind = match &e {
            RawPortError::InvalidName(_) => io::ErrorKind::InvalidInput,
            RawPortError::NoSuchInterface(_) => io::ErrorKind::NotFound,
            RawPortError::PermissionDenied(_) => io::ErrorKind::PermissionDenied,
            RawPortError::Io { source, .. } => source.kind(),
        };
        io::Error::new(kind, e)
    }
}

/// A port on a network interface through an `AF_PACKET` socket.
#[derive(Debug)]
pub struct RawPort {
    fd: OwnedFd,
    name: String,
    ifindex: u32,
    /// The kernel lacks `PACKET_IGNORE_OUTGOING`: drop outgoing frames by hand.
    filter_outgoing: bool,
    csum_not_ready: u64,
}

impl RawPort {
    /// Opens interface `ifname` of the current network namespace: binds a non-blocking
    /// packet socket to it for all protocols, in promiscuous membership, ignoring its own
    /// output, with VLAN metadata and enlarged buffers. The interface must be up to carry
    /// frames; opening does not change its state.
    pub fn open(ifname: &str) -> Result<Self, RawPortError> {
        if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ {
            return Err(RawPortError::InvalidName(ifname.to_string()));
        }
        let cname =
            CString::new(ifname).map_err(|_| RawPortError::InvalidName(ifname.to_string()))?;
        // SAFETY: cname is a valid NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ENODEV) | Some(libc::ENXIO) | Some(0) | None => {
                    RawPortError::NoSuchInterface(ifname.to_string())
                }
                _ => io_err("if_nametoindex", ifname, e),
            });
        }
        // Protocol 0: nothing is received until bind() names the interface.
        // SAFETY: plain socket(2) call.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if raw < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => {
                    RawPortError::PermissionDenied(ifname.to_string())
                }
                _ => io_err("socket", ifname, e),
            });
        }
        // SAFETY: raw is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let filter_outgoing = match setsockopt_int(raw, sys::PACKET_IGNORE_OUTGOING, 1) {
            Ok(()) => false,
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => true,
            Err(e) => return Err(io_err("PACKET_IGNORE_OUTGOING", ifname, e)),
        };
        setsockopt_int(raw, sys::PACKET_AUXDATA, 1)
            .map_err(|e| io_err("PACKET_AUXDATA", ifname, e))?;
        enlarge_buffers(raw, SOCKET_BUFFER);
        // SAFETY: all-zero is a valid sockaddr_ll.
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as libc::c_ushort;
        sll.sll_protocol = sys::ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex as libc::c_int;
        // SAFETY: sll is a valid sockaddr_ll of the given length.
        let r = unsafe {
            libc::bind(
                raw,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            // The interface vanished between the name lookup and the bind.
            if e.raw_os_error() == Some(libc::ENODEV) {
                return Err(RawPortError::NoSuchInterface(ifname.to_string()));
            }
            return Err(io_err("bind", ifname, e));
        }
        let mreq = sys::PacketMreq {
            mr_ifindex: ifindex as libc::c_int,
            mr_type: sys::PACKET_MR_PROMISC,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        // SAFETY: setsockopt with a packet_mreq value.
        cvt(unsafe {
            libc::setsockopt(
                raw,
                sys::SOL_PACKET,
                sys::PACKET_ADD_MEMBERSHIP,
                &mreq as *const sys::PacketMreq as *const libc::c_void,
                mem::size_of::<sys::PacketMreq>() as libc::socklen_t,
            )
        })
        .map_err(|e| io_err("PACKET_ADD_MEMBERSHIP", ifname, e))?;
        Ok(RawPort {
            fd,
            name: ifname.to_string(),
            ifindex,
            filter_outgoing,
            csum_not_ready: 0,
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface index the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Frames received with a partial (not yet computed) checksum, from a local stack with
    /// checksum offload on the sending interface; see the module notes.
    pub fn csum_not_ready(&self) -> u64 {
        self.csum_not_ready
    }
}

/// `struct ifreq` for `SIOCGIFFLAGS`: the name, then the flags (a short) in the union.
#[repr(C)]
struct IfReqFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl RawPort {
    /// The interface's flags, by name.
    fn if_flags(&self) -> io::Result<libc::c_int> {
        let mut req = IfReqFlags {
            name: [0; libc::IFNAMSIZ],
            flags: 0,
            _pad: [0; 22],
        };
        for (d, s) in req
            .name
            .iter_mut()
            .zip(self.name.bytes().take(libc::IFNAMSIZ - 1))
        {
            *d = s as libc::c_char;
        }
        // SAFETY: SIOCGIFFLAGS reads the name and writes the flags of a struct ifreq,
        // which IfReqFlags lays out (40 bytes).
        cvt(unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
        Ok(libc::c_int::from(req.flags) & 0xffff)
    }
}

impl Port for RawPort {
    fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn link_up(&self) -> Option<bool> {
        let want = libc::IFF_UP | libc::IFF_RUNNING;
        // A vanished interface has no link.
        Some(self.if_flags().is_ok_and(|f| f & want == want))
    }

    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        loop {
            let (n, kept) = self.recv_once(batch)?;
            // Everything read was our own output: read again so an edge-triggered caller
            // does not stop with frames still queued.
            if n == 0 || kept > 0 {
                batch.set_count(kept);
                return Ok(kept);
            }
        }
    }

    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        let fd = self.fd.as_raw_fd();
        let mut done = 0;
        while done < frames.len() {
            let chunk = &frames[done..(done + BATCH).min(frames.len())];
            let n = send_mmsg(fd, chunk);
            if n > 0 {
                done += n as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EAGAIN) => break,
                Some(libc::EINTR) => continue,
                // This frame can never go (too big, too short, link down, device gone).
                Some(
                    libc::EMSGSIZE
                    | libc::EINVAL
                    | libc::ENOBUFS
                    | libc::ENETDOWN
                    | libc::ENXIO
                    | libc::ENODEV,
                ) => {
                    *errors += 1;
                    done += 1;
                }
                _ => return Err(e),
            }
        }
        Ok(done)
    }

    fn kind(&self) -> &'static str {
        "raw"
    }
}

impl RawPort {
    /// One `recvmmsg`. Returns (frames read, frames kept) and leaves the kept ones, VLAN
    /// tags restored, at the front of `batch`.
    fn recv_once(&mut self, batch: &mut RxBatch) -> io::Result<(usize, usize)> {
        // SAFETY: all-zero is valid for these plain C structs.
        let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        let mut names: [libc::sockaddr_ll; BATCH] = unsafe { mem::zeroed() };
        let mut control = [[0u64; CONTROL_WORDS]; BATCH];
        let bufs = batch.bufs_mut();
        let slots = bufs.len().min(BATCH);
        if slots == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "receive batch has no buffers",
            ));
        }
        for i in 0..slots {
            iov[i].iov_base = bufs[i].as_mut_ptr() as *mut libc::c_void;
            iov[i].iov_len = bufs[i].len();
            let h = &mut hdrs[i].msg_hdr;
            h.msg_iov = &mut iov[i];
            h.msg_iovlen = 1;
            h.msg_name = &mut names[i] as *mut libc::sockaddr_ll as *mut libc::c_void;
            h.msg_namelen = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            h.msg_control = control[i].as_mut_ptr() as *mut libc::c_void;
            h.msg_controllen = mem::size_of::<[u64; CONTROL_WORDS]>() as _;
        }
        // SAFETY: hdrs points at `slots` valid headers whose buffers outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_DONTWAIT,
                ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN | libc::EINTR | libc::ENETDOWN) => Ok((0, 0)),
                _ => Err(e),
            };
        }
        let n = n as usize;
        let mut kept = 0;
        for i in 0..n {
            let h = &hdrs[i].msg_hdr;
            if self.filter_outgoing && names[i].sll_pkttype == sys::PACKET_OUTGOING {
                continue;
            }
            let aux = auxdata(h);
            let len = hdrs[i].msg_len as usize;
            let truncated = h.msg_flags & libc::MSG_TRUNC != 0;
            let bufs = batch.bufs_mut();
            if i != kept {
                bufs.swap(i, kept);
            }
            let (len, truncated) = match aux {
                Some(a) => {
                    if a.tp_status & sys::TP_STATUS_CSUMNOTREADY != 0 {
                        self.csum_not_ready += 1;
                    }
                    if a.tp_status & sys::TP_STATUS_VLAN_VALID != 0 {
                        let tpid = if a.tp_status & sys::TP_STATUS_VLAN_TPID_VALID != 0
                            && a.tp_vlan_tpid != 0
                        {
                            a.tp_vlan_tpid
                        } else {
                            sys::ETH_P_8021Q
                        };
                        insert_tag(&mut bufs[kept], len, truncated, tpid, a.tp_vlan_tci)
                    } else {
                        (len, truncated)
                    }
                }
                None => (len, truncated),
            };
            batch.set(kept, len, truncated);
            kept += 1;
        }
        Ok((n, kept))
    }
}

/// Re-inserts a VLAN tag after the MAC addresses of the `len`-byte frame in `buf`.
/// Returns the new length and whether the frame is truncated (it was, or the tag pushed
/// its tail out of the buffer).
fn insert_tag(buf: &mut [u8], len: usize, truncated: bool, tpid: u16, tci: u16) -> (usize, bool) {
    let len = len.min(buf.len());
    if len < TAG_OFFSET {
        // Not an Ethernet frame; nothing sensible to restore.
        return (len, truncated);
    }
    let new_len = (len + TAG_LEN).min(buf.len());
    let cut = len + TAG_LEN > buf.len();
    // Move the tail right by TAG_LEN, dropping whatever no longer fits.
    let tail_end = new_len - TAG_LEN;
    buf.copy_within(TAG_OFFSET..tail_end, TAG_OFFSET + TAG_LEN);
    buf[TAG_OFFSET..TAG_OFFSET + 2].copy_from_slice(&tpid.to_be_bytes());
    buf[TAG_OFFSET + 2..TAG_OFFSET + TAG_LEN].copy_from_slice(&tci.to_be_bytes());
    (new_len, truncated || cut)
}

/// The `PACKET_AUXDATA` record of a received message, if the kernel attached one.
fn auxdata(h: &libc::msghdr) -> Option<sys::TpacketAuxdata> {
    // SAFETY: h is a header the kernel filled; CMSG_* walk within msg_control/controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            let want = libc::CMSG_LEN(mem::size_of::<sys::TpacketAuxdata>() as u32) as usize;
            if (*c).cmsg_level == sys::SOL_PACKET
                && (*c).cmsg_type == sys::PACKET_AUXDATA
                && (*c).cmsg_len as usize >= want
            {
                let p = libc::CMSG_DATA(c) as *const sys::TpacketAuxdata;
                return Some(ptr::read_unaligned(p));
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

/// One `sendmmsg` of up to [`BATCH`] frames to the bound interface; its raw result.
fn send_mmsg(fd: RawFd, chunk: &[&[u8]]) -> libc::c_int {
    // SAFETY: all-zero is valid for these plain C structs.
    let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
    let n = chunk.len().min(BATCH);
    for (i, f) in chunk.iter().take(n).enumerate() {
        iov[i].iov_base = f.as_ptr() as *mut libc::c_void;
        iov[i].iov_len = f.len();
        hdrs[i].msg_hdr.msg_iov = &mut iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: hdrs points at n valid headers; the frames outlive the call.
    unsafe {
        libc::sendmmsg(
            fd,
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    }
}

fn setsockopt_int(fd: RawFd, opt: libc::c_int, val: libc::c_int) -> io::Result<()> {
    // SAFETY: setsockopt with a c_int value.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            sys::SOL_PACKET,
            opt,
            &val as *const libc::c_int as *const libc::c_void,
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

fn io_err(op: &'static str, ifname: &str, source: io::Error) -> RawPortError {
    RawPortError::Io {
        op,
        ifname: ifname.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn insert_tag_restores_the_wire_layout() {
        let mut buf = [0xa5u8; 64];
        let frame: Vec<u8> = (0..20u8).collect();
        buf[..20].copy_from_slice(&frame);
        let (len, trunc) = insert_tag(&mut buf, 20, false, 0x88a8, 0x2064);
        assert_eq!((len, trunc), (24, false));
        assert_eq!(&buf[..12], &frame[..12]);
        assert_eq!(&buf[12..16], &[0x88, 0xa8, 0x20, 0x64]);
        assert_eq!(&buf[16..24], &frame[12..20]);
        assert_eq!(buf[24], 0xa5, "nothing written past the frame");
    }

    #[test]
    fn insert_tag_flags_a_frame_pushed_past_the_buffer() {
        let mut buf: Vec<u8> = (0..30u8).collect();
        let (len, trunc) = insert_tag(&mut buf, 28, false, 0x8100, 5);
        assert_eq!((len, trunc), (30, true));
        assert_eq!(&buf[16..30], &(12..26u8).collect::<Vec<_>>()[..]);
        // Too short to be Ethernet: left alone.
        let mut short = [1u8; 8];
        assert_eq!(insert_tag(&mut short, 8, false, 0x8100, 5), (8, false));
        assert_eq!(short, [1u8; 8]);
    }

    #[test]
    fn an_empty_batch_is_an_error_not_a_panic() {
        if !is_root() {
            eprintln!("skipped: needs CAP_NET_RAW");
            return;
        }
        let ns = Netns::new("eb");
        let r = ns.run(|| {
            let mut port = RawPort::open("fla").unwrap();
            port.recv_batch(&mut RxBatch::empty()).map_err(|e| e.kind())
        });
        assert_eq!(r, Err(io::ErrorKind::InvalidInput));
    }

    #[test]
    fn bad_names_and_missing_interfaces_are_typed() {
        assert!(matches!(
            RawPort::open(""),
            Err(RawPortError::InvalidName(_))
        ));
        assert!(matches!(
            RawPort::open("a-name-far-too-long-for-linux"),
            Err(RawPortError::InvalidName(_))
        ));
        assert!(matches!(
            RawPort::open("nul\0x"),
            Err(RawPortError::InvalidName(_))
        ));
        let e = RawPort::open("flnoexist0").unwrap_err();
        assert!(matches!(e, RawPortError::NoSuchInterface(ref n) if n == "flnoexist0"));
        assert!(e.to_string().contains("flnoexist0"));
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::NotFound);
    }

    fn is_root() -> bool {
        // SAFETY: geteuid never fails.
        unsafe { libc::geteuid() == 0 }
    }

    /// Without CAP_NET_RAW the error says so. As root, the capability is dropped from the
    /// effective set of one thread only (capabilities are per thread on Linux).
    #[test]
    fn missing_cap_net_raw_is_permission_denied() {
        let r = std::thread::spawn(|| {
            if is_root() {
                drop_cap_net_raw_in_this_thread();
            }
            RawPort::open("lo")
        })
        .join()
        .unwrap();
        match r {
            Err(RawPortError::PermissionDenied(n)) => assert_eq!(n, "lo"),
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
    }

    fn drop_cap_net_raw_in_this_thread() {
        #[repr(C)]
        struct Header {
            version: u32,
            pid: libc::c_int,
        }
        #[repr(C)]
        #[derive(Clone, Copy, Default)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
        const CAP_NET_RAW: u32 = 13;
        let mut hdr = Header {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let mut data = [Data::default(); 2];
        // SAFETY: capget/capset with a v3 header and two data records, for this thread.
        unsafe {
            assert_eq!(
                libc::syscall(libc::SYS_capget, &mut hdr as *mut Header, data.as_mut_ptr()),
                0
            );
            data[0].effective &= !(1 << CAP_NET_RAW);
            assert_eq!(
                libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()),
                0
            );
        }
    }

    /// A network namespace with one veth pair, deleted on drop.
    struct Netns {
        name: String,
    }

    impl Netns {
        fn new(tag: &str) -> Netns {
            let name = format!("flowlab-raw-{}-{}", tag, std::process::id());
            let ns = Netns { name };
            ns.ip(&["netns", "add", &ns.name]);
            for sysctl in [
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ] {
                ns.exec(&["sysctl", "-qw", sysctl]);
            }
            ns.exec(&[
                "ip", "link", "add", "fla", "type", "veth", "peer", "name", "flb",
            ]);
            ns.exec(&["ip", "link", "set", "fla", "up"]);
            ns.exec(&["ip", "link", "set", "flb", "up"]);
            ns
        }

        fn ip(&self, args: &[&str]) {
            let st = Command::new("ip").args(args).status().expect("run ip");
            assert!(st.success(), "ip {args:?} failed");
        }

        fn exec(&self, args: &[&str]) {
            let st = Command::new("ip")
                .args(["netns", "exec", &self.name])
                .args(args)
                .status()
                .expect("run ip netns exec");
            assert!(st.success(), "{args:?} in {} failed", self.name);
        }

        /// Runs `f` on a thread that has entered the namespace (setns is per thread).
        fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
            let path = format!("/var/run/netns/{}", self.name);
            std::thread::spawn(move || {
                let ns = std::fs::File::open(&path).expect("open netns");
                // SAFETY: setns on a namespace descriptor, for this thread only.
                let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", io::Error::last_os_error());
                f()
            })
            .join()
            .expect("namespace thread")
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.name])
                .status();
        }
    }

    /// A plain packet socket bound to `ifname`, without auxdata: the independent sender.
    fn plain_sender(ifname: &str) -> OwnedFd {
        let c = CString::new(ifname).unwrap();
        // SAFETY: plain socket calls on a fresh descriptor.
        unsafe {
            let ifindex = libc::if_nametoindex(c.as_ptr());
            assert!(ifindex > 0);
            let raw = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
            assert!(raw >= 0);
            let fd = OwnedFd::from_raw_fd(raw);
            let mut sll: libc::sockaddr_ll = mem::zeroed();
            sll.sll_family = libc::AF_PACKET as libc::c_ushort;
            sll.sll_protocol = 0;
            sll.sll_ifindex = ifindex as libc::c_int;
            let r = libc::bind(
                raw,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            );
            assert_eq!(r, 0);
            fd
        }
    }

    fn send_plain(fd: &OwnedFd, frame: &[u8]) {
        // SAFETY: sending a borrowed buffer on a bound packet socket.
        let r = unsafe {
            libc::send(
                fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
            )
        };
        assert_eq!(r, frame.len() as isize, "{}", io::Error::last_os_error());
    }

    /// Test frames: our MACs, a local-experimental EtherType 0x88b5, a marker byte.
    fn frame(marker: u8, tags: &[(u16, u16)], payload_len: usize) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0, 0xaa];
        for (tpid, tci) in tags {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&tci.to_be_bytes());
        }
        f.extend_from_slice(&[0x88, 0xb5, marker]);
        f.extend((0..payload_len).map(|i| (i as u8).wrapping_mul(7) ^ marker));
        f
    }

    /// Receives until `want` test frames (EtherType 0x88b5 anywhere after the tags) arrive
    /// or two seconds pass.
    fn collect(port: &mut RawPort, want: usize) -> Vec<Vec<u8>> {
        let mut batch = RxBatch::new(2048);
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while got.len() < want && std::time::Instant::now() < deadline {
            let n = port.recv_batch(&mut batch).unwrap();
            for i in 0..n {
                let (f, trunc) = batch.frame(i);
                assert!(!trunc);
                if f.len() > 14 && f[..6] == [0x02, 0, 0, 0, 0, 0xbb] {
                    got.push(f.to_vec());
                }
            }
            if n == 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        got
    }

    #[test]
    fn veth_frames_arrive_with_their_vlan_tags() {
        if !is_root() {
            eprintln!("skipped: needs root (network namespace, CAP_NET_RAW)");
            return;
        }
        let ns = Netns::new("rx");
        let (sent, got) = ns.run(|| {
            let mut port = RawPort::open("fla").unwrap();
            assert_eq!(port.kind(), "raw");
            assert_eq!(port.name(), "fla");
            let tx = plain_sender("flb");
            let sent = vec![
                frame(1, &[], 46),
                frame(2, &[(0x8100, 0xa00a)], 42),
                frame(3, &[(0x8100, 0x0000)], 42),
                frame(4, &[(0x88a8, 0x0064), (0x8100, 0x2005)], 38),
                frame(5, &[], 1497),
                frame(6, &[(0x8100, 0x0fff)], 1497),
            ];
            for f in &sent {
                send_plain(&tx, f);
            }
            let got = collect(&mut port, sent.len());
            assert_eq!(port.csum_not_ready(), 0);
            (sent, got)
        });
        assert_eq!(got.len(), sent.len(), "every frame arrived");
        for (i, (s, g)) in sent.iter().zip(&got).enumerate() {
            assert_eq!(s, g, "frame {i} comes back byte for byte");
        }
    }

    #[test]
    fn sends_in_batches_and_ignores_outgoing_frames() {
        if !is_root() {
            eprintln!("skipped: needs root (network namespace, CAP_NET_RAW)");
            return;
        }
        let ns = Netns::new("tx");
        let (sent, got, echo) = ns.run(|| {
            let mut a = RawPort::open("fla").unwrap();
            let mut b = RawPort::open("flb").unwrap();
            let sent: Vec<Vec<u8>> = (0..100u8)
                .map(|i| {
                    if i % 3 == 0 {
                        frame(i, &[(0x8100, 0x3000 | u16::from(i))], 50)
                    } else {
                        frame(i, &[], 50 + usize::from(i))
                    }
                })
                .collect();
            let refs: Vec<&[u8]> = sent.iter().map(|f| f.as_slice()).collect();
            let mut errors = 0;
            let mut done = 0;
            while done < refs.len() {
                done += a.send_batch(&refs[done..], &mut errors).unwrap();
            }
            assert_eq!(errors, 0);
            // A frame shorter than an Ethernet header is refused and counted.
            assert_eq!(a.send_batch(&[&[1u8, 2, 3][..]], &mut errors).unwrap(), 1);
            assert_eq!(errors, 1);
            let got = collect(&mut b, sent.len());
            // Another socket on a's interface sends: that frame leaves through fla and
            // reaches b, but is not input for a.
            let other = plain_sender("fla");
            let tx_b = plain_sender("flb");
            let outgoing = frame(200, &[], 46);
            send_plain(&other, &outgoing);
            let at_b = collect(&mut b, 1);
            assert_eq!(at_b, vec![outgoing]);
            let mut echo = collect(&mut a, 1);
            // The fallback for kernels without PACKET_IGNORE_OUTGOING: filter by pkttype.
            let mut c = RawPort::open("fla").unwrap();
            setsockopt_int(c.fd(), sys::PACKET_IGNORE_OUTGOING, 0).unwrap();
            c.filter_outgoing = true;
            send_plain(&other, &frame(201, &[], 46));
            send_plain(&tx_b, &frame(202, &[], 46));
            let at_c = collect(&mut c, 2);
            assert_eq!(at_c, vec![frame(202, &[], 46)], "only the incoming frame");
            echo.extend(collect(&mut a, 1).into_iter().filter(|f| f[14] != 202));
            (sent, got, echo)
        });
        assert_eq!(got, sent, "all frames, in order, tags intact");
        assert!(
            echo.is_empty(),
            "port a read {} outgoing frames",
            echo.len()
        );
    }

    /// UDP from the peer's own stack: with veth checksum offload on, the frames arrive
    /// marked partial (and counted); after `ethtool -K flb tx off` they are complete.
    #[test]
    fn partial_checksums_are_counted_until_offload_is_off() {
        if !is_root() {
            eprintln!("skipped: needs root (network namespace, CAP_NET_RAW)");
            return;
        }
        if Command::new("ethtool").arg("--version").output().is_err() {
            eprintln!("skipped: ethtool not installed (scripts/setup.sh installs it)");
            return;
        }
        let ns = Netns::new("ck");
        ns.exec(&["ip", "addr", "add", "198.51.100.1/24", "dev", "flb"]);
        ns.exec(&[
            "ip",
            "neigh",
            "add",
            "198.51.100.2",
            "lladdr",
            "02:00:00:00:00:bb",
            "dev",
            "flb",
        ]);
        let send_udp = |count: u64| {
            let sock = std::net::UdpSocket::bind("198.51.100.1:0").unwrap();
            for _ in 0..count {
                sock.send_to(b"checksum me please", "198.51.100.2:9")
                    .unwrap();
            }
        };
        let offloaded = ns.run(move || {
            let mut port = RawPort::open("fla").unwrap();
            send_udp(3);
            let got = collect(&mut port, 3);
            let bad = got.iter().filter(|f| !udp_checksum_ok(f)).count();
            (port.csum_not_ready(), got.len(), bad)
        });
        assert_eq!(
            offloaded,
            (3, 3, 3),
            "partial checksums counted (and wrong)"
        );
        ns.exec(&["ethtool", "-K", "flb", "tx", "off"]);
        let (count, frames) = ns.run(move || {
            let mut port = RawPort::open("fla").unwrap();
            send_udp(3);
            let got = collect(&mut port, 3);
            (port.csum_not_ready(), got)
        });
        assert_eq!((count, frames.len()), (0, 3));
        for f in &frames {
            assert!(udp_checksum_ok(f), "complete checksum after tx off");
        }
    }

    /// Verifies the UDP checksum of an untagged IPv4/UDP frame (no IP options).
    fn udp_checksum_ok(f: &[u8]) -> bool {
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        let ip = &f[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let udp = &ip[ihl..usize::from(u16::from_be_bytes([ip[2], ip[3]]))];
        let mut sum: u32 = 0;
        let mut add = |b: &[u8]| {
            for c in b.chunks(2) {
                sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
            }
        };
        add(&ip[12..20]);
        add(&[0, 17]);
        add(&(udp.len() as u16).to_be_bytes());
        add(udp);
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum == 0xffff
    }

    /// Link down is not a broken port: receive reads nothing, sends count as errors, and
    /// traffic resumes when the link comes back.
    #[test]
    fn link_down_and_up_again() {
        if !is_root() {
            eprintln!("skipped: needs root (network namespace, CAP_NET_RAW)");
            return;
        }
        let ns = Netns::new("ld");
        let name = ns.name.clone();
        let (down_rx, down_errors, after, states) = ns.run(move || {
            let mut port = RawPort::open("fla").unwrap();
            let tx = plain_sender("flb");
            let link = |state: &str| {
                let st = Command::new("ip")
                    .args(["netns", "exec", &name, "ip", "link", "set", "fla", state])
                    .status()
                    .unwrap();
                assert!(st.success());
            };
            let up_before = port.link_up();
            link("down");
            let down_state = port.link_up();
            let mut batch = RxBatch::new(2048);
            let down_rx = port.recv_batch(&mut batch).map_err(|e| e.to_string());
            let mut errors = 0;
            let f = frame(9, &[], 46);
            port.send_batch(&[&f[..]], &mut errors).unwrap();
            link("up");
            // veth needs a moment for carrier.
            std::thread::sleep(std::time::Duration::from_millis(200));
            let sent = frame(10, &[(0x8100, 7)], 46);
            send_plain(&tx, &sent);
            let up_after = port.link_up();
            (
                down_rx,
                errors,
                collect(&mut port, 1) == vec![sent],
                (up_before, down_state, up_after),
            )
        });
        assert_eq!(
            states,
            (Some(true), Some(false), Some(true)),
            "link state: up, down, up"
        );
        assert_eq!(down_rx, Ok(0));
        assert_eq!(down_errors, 1, "a frame sent while down is counted");
        assert!(after, "frames flow again after link up");
    }

    #[test]
    fn open_in_namespace_finds_only_its_interfaces() {
        if !is_root() {
            eprintln!("skipped: needs root (network namespace)");
            return;
        }
        let ns = Netns::new("ns");
        let inside = ns.run(|| RawPort::open("fla").map(|p| p.ifindex()));
        assert!(inside.unwrap() > 0);
        assert!(matches!(
            RawPort::open("fla"),
            Err(RawPortError::NoSuchInterface(_))
        ));
    }
}
