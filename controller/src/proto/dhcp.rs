//! DHCP messages (RFC 2131, options RFC 2132): the BOOTP layout and its options.
//!
//! ```text
//!  0      1      2      3      4            8      10     12
//! | op   | htype| hlen | hops | xid        | secs | flags|
//! | ciaddr 12..16 | yiaddr 16..20 | siaddr 20..24 | giaddr 24..28 |
//! | chaddr 28..44 (16) | sname 44..108 (64) | file 108..236 (128) |
//! | magic cookie 99.130.83.99 236..240 | options 240.. (code, len, data; pad 0; end 255) |
//! ```
//!
//! # Option overload
//!
//! A message whose options do not fit may carry more of them in the `file` and `sname`
//! fields, saying so with option 52 in the options field itself: value 1 for `file`,
//! 2 for `sname`, 3 for both, read in the order options, `file`, `sname` (RFC 2131
//! §4.1). [`DhcpOptionIter`] reads them in that order, each region up to its own End.
//! Every step consumes at least one byte, so the walk ends however the bytes are laid
//! out; an option whose length runs past its region ends the walk with `Truncated`.
//! When an option appears twice, the first instance is the one read (long options split
//! over several instances, RFC 3396, are not joined: nothing read here needs them).

use std::net::Ipv4Addr;

use super::{be16, be32, number_enum, Error, Result};

mod field {
    use std::ops::{Range, RangeFrom};

    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const SNAME: Range<usize> = 44..108;
    pub const FILE: Range<usize> = 108..236;
    pub const MAGIC: Range<usize> = 236..240;
    pub const OPTIONS: RangeFrom<usize> = 240..;
}

/// Length of the fixed part, magic cookie included.
pub const HEADER_LEN: usize = field::OPTIONS.start;

/// The magic cookie that opens the options (99.130.83.99).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];

/// The server's UDP port.
pub const SERVER_PORT: u16 = 67;

/// The client's UDP port.
pub const CLIENT_PORT: u16 = 68;

/// The broadcast bit of `flags`.
pub const FLAG_BROADCAST: u16 = 0x8000;

/// Hardware type Ethernet (`htype`).
pub const HTYPE_ETHERNET: u8 = 1;

number_enum! {
    /// The BOOTP operation (`op`).
    pub enum OpCode(u8) {
        /// From a client.
        Request = 1,
        /// From a server.
        Reply = 2,
    }
}

number_enum! {
    /// The DHCP message type (option 53).
    pub enum MessageType(u8) {
        /// DHCPDISCOVER.
        Discover = 1,
        /// DHCPOFFER.
        Offer = 2,
        /// DHCPREQUEST.
        Request = 3,
        /// DHCPDECLINE.
        Decline = 4,
        /// DHCPACK.
        Ack = 5,
        /// DHCPNAK.
        Nak = 6,
        /// DHCPRELEASE.
        Release = 7,
        /// DHCPINFORM.
        Inform = 8,
    }
}

impl MessageType {
    /// The `op` this type travels with (None for unknown types).
    pub fn op(self) -> Option<OpCode> {
        match self {
            MessageType::Discover
            | MessageType::Request
            | MessageType::Decline
            | MessageType::Release
            | MessageType::Inform => Some(OpCode::Request),
            MessageType::Offer | MessageType::Ack | MessageType::Nak => Some(OpCode::Reply),
            MessageType::Unknown(_) => None,
        }
    }
}

/// Option codes (RFC 2132).
pub mod option {
    /// Padding (no length byte).
    pub const PAD: u8 = 0;
    /// Subnet mask.
    pub const SUBNET_MASK: u8 = 1;
    /// Routers.
    pub const ROUTER: u8 = 3;
    /// DNS servers.
    pub const DNS_SERVER: u8 = 6;
    /// Host name.
    pub const HOST_NAME: u8 = 12;
    /// Domain name.
    pub const DOMAIN_NAME: u8 = 15;
    /// Requested IP address.
    pub const REQUESTED_IP: u8 = 50;
    /// Lease time.
    pub const LEASE_TIME: u8 = 51;
    /// Option overload (1: `file`, 2: `sname`, 3: both).
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type.
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server identifier.
    pub const SERVER_ID: u8 = 54;
    /// Parameter request list.
    pub const PARAMETER_LIST: u8 = 55;
    /// Client identifier.
    pub const CLIENT_ID: u8 = 61;
    /// End of options (no length byte).
    pub const END: u8 = 255;
}

/// One option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    /// The code.
    pub code: u8,
    /// The data.
    pub data: &'a [u8],
}

/// Iterator over a message's options (see the module documentation for the order).
/// Yields each option, or one error, then stops.
#[derive(Debug, Clone)]
pub struct DhcpOptionIter<'a> {
    rest: &'a [u8],
    /// Regions still to read after `rest` (`file`, `sname` when overloaded).
    more: [&'a [u8]; 2],
    next: usize,
}

impl<'a> DhcpOptionIter<'a> {
    fn region(options: &'a [u8]) -> Self {
        DhcpOptionIter {
            rest: options,
            more: [&[], &[]],
            next: 2,
        }
    }

    fn new(options: &'a [u8], file: &'a [u8], sname: &'a [u8]) -> Self {
        // Overload is only ever announced in the options field.
        let overload = DhcpOptionIter::region(options)
            .map_while(|o| o.ok())
            .find(|o| o.code == option::OVERLOAD)
            .and_then(|o| match o.data {
                &[v] => Some(v),
                _ => None,
            })
            .unwrap_or(0);
        let pick = |bit: u8, r: &'a [u8]| if overload & bit != 0 { r } else { &[] };
        DhcpOptionIter {
            rest: options,
            more: [pick(1, file), pick(2, sname)],
            next: 0,
        }
    }
}

impl<'a> Iterator for DhcpOptionIter<'a> {
    type Item = Result<DhcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some((&code, tail)) = self.rest.split_first() else {
                let r = self.more.get(self.next)?;
                self.rest = r;
                self.next += 1;
                continue;
            };
            match code {
                option::PAD => self.rest = tail,
                option::END => self.rest = &[],
                _ => {
                    let Some((&len, tail)) = tail.split_first() else {
                        return Some(Err(self.fail()));
                    };
                    let len = usize::from(len);
                    if tail.len() < len {
                        return Some(Err(self.fail()));
                    }
                    let (data, after) = tail.split_at(len);
                    self.rest = after;
                    return Some(Ok(DhcpOption { code, data }));
                }
            }
        }
    }
}

impl DhcpOptionIter<'_> {
    fn fail(&mut self) -> Error {
        self.rest = &[];
        self.next = self.more.len();
        Error::Truncated
    }
}

impl core::iter::FusedIterator for DhcpOptionIter<'_> {}

/// A view of a DHCP message (the UDP payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

fn ipv4_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::from(be32(b, at))
}

impl<T: AsRef<[u8]>> DhcpPacket<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        DhcpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the fixed part and the magic cookie (options may be
    /// absent or malformed: the option iterator reports that).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The operation.
    pub fn op(&self) -> OpCode {
        OpCode::from(self.b()[field::OP])
    }

    /// The hardware type (1: Ethernet).
    pub fn hardware_type(&self) -> u8 {
        self.b()[field::HTYPE]
    }

    /// The hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.b()[field::HLEN]
    }

    /// Relay hops.
    pub fn hops(&self) -> u8 {
        self.b()[field::HOPS]
    }

    /// The transaction id.
    pub fn xid(&self) -> u32 {
        be32(self.b(), field::XID.start)
    }

    /// Seconds since the client began.
    pub fn secs(&self) -> u16 {
        be16(self.b(), field::SECS.start)
    }

    /// The flags (see [`FLAG_BROADCAST`]).
    pub fn flags(&self) -> u16 {
        be16(self.b(), field::FLAGS.start)
    }

    /// The client's address, when it has one (`ciaddr`).
    pub fn client_ip(&self) -> Ipv4Addr {
        ipv4_at(self.b(), field::CIADDR.start)
    }

    /// The address offered or assigned (`yiaddr`).
    pub fn your_ip(&self) -> Ipv4Addr {
        ipv4_at(self.b(), field::YIADDR.start)
    }

    /// The next server (`siaddr`).
    pub fn server_ip(&self) -> Ipv4Addr {
        ipv4_at(self.b(), field::SIADDR.start)
    }

    /// The relay agent (`giaddr`).
    pub fn relay_ip(&self) -> Ipv4Addr {
        ipv4_at(self.b(), field::GIADDR.start)
    }

    /// The client hardware address field (16 bytes, `hardware_len` of them used).
    pub fn client_hardware_addr(&self) -> &[u8] {
        &self.b()[field::CHADDR]
    }

    /// The client's MAC address, if the message says Ethernet (type 1, length 6).
    pub fn client_mac(&self) -> Option<[u8; 6]> {
        if self.hardware_type() != HTYPE_ETHERNET || self.hardware_len() != 6 {
            return None;
        }
        self.client_hardware_addr().get(..6)?.try_into().ok()
    }

    /// Whether the magic cookie is there.
    pub fn has_magic(&self) -> bool {
        self.b()[field::MAGIC] == MAGIC_COOKIE
    }

    /// The options, in order (overloaded `file` and `sname` included).
    pub fn options(&self) -> DhcpOptionIter<'_> {
        let b = self.b();
        DhcpOptionIter::new(&b[field::OPTIONS], &b[field::FILE], &b[field::SNAME])
    }

    /// The data of the first option `code` before any malformed option.
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options()
            .map_while(|o| o.ok())
            .find(|o| o.code == code)
            .map(|o| o.data)
    }

    /// The message type (option 53), if present and one byte long.
    pub fn message_type(&self) -> Option<MessageType> {
        match self.option(option::MESSAGE_TYPE)? {
            &[t] => Some(MessageType::from(t)),
            _ => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DhcpPacket<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the operation.
    pub fn set_op(&mut self, op: OpCode) {
        self.m()[field::OP] = op.into();
    }

    /// Sets the hardware type and address length.
    pub fn set_hardware(&mut self, htype: u8, hlen: u8) {
        self.m()[field::HTYPE] = htype;
        self.m()[field::HLEN] = hlen;
    }

    /// Sets the relay hops.
    pub fn set_hops(&mut self, hops: u8) {
        self.m()[field::HOPS] = hops;
    }

    /// Sets the transaction id.
    pub fn set_xid(&mut self, xid: u32) {
        self.m()[field::XID].copy_from_slice(&xid.to_be_bytes());
    }

    /// Sets the seconds field.
    pub fn set_secs(&mut self, secs: u16) {
        self.m()[field::SECS].copy_from_slice(&secs.to_be_bytes());
    }

    /// Sets the flags.
    pub fn set_flags(&mut self, flags: u16) {
        self.m()[field::FLAGS].copy_from_slice(&flags.to_be_bytes());
    }

    /// Sets `ciaddr`.
    pub fn set_client_ip(&mut self, a: Ipv4Addr) {
        self.m()[field::CIADDR].copy_from_slice(&a.octets());
    }

    /// Sets `yiaddr`.
    pub fn set_your_ip(&mut self, a: Ipv4Addr) {
        self.m()[field::YIADDR].copy_from_slice(&a.octets());
    }

    /// Sets `siaddr`.
    pub fn set_server_ip(&mut self, a: Ipv4Addr) {
        self.m()[field::SIADDR].copy_from_slice(&a.octets());
    }

    /// Sets `giaddr`.
    pub fn set_relay_ip(&mut self, a: Ipv4Addr) {
        self.m()[field::GIADDR].copy_from_slice(&a.octets());
    }

    /// Sets `chaddr` to `addr` (at most 16 bytes used), zero-filled.
    pub fn set_client_hardware_addr(&mut self, addr: &[u8]) {
        let f = &mut self.m()[field::CHADDR];
        f.fill(0);
        let n = addr.len().min(f.len());
        f[..n].copy_from_slice(&addr[..n]);
    }

    /// Writes the magic cookie.
    pub fn set_magic(&mut self) {
        self.m()[field::MAGIC].copy_from_slice(&MAGIC_COOKIE);
    }

    /// The `sname` field, mutable (for overloaded options).
    pub fn server_name_mut(&mut self) -> &mut [u8] {
        &mut self.m()[field::SNAME]
    }

    /// The `file` field, mutable (for overloaded options).
    pub fn file_mut(&mut self) -> &mut [u8] {
        &mut self.m()[field::FILE]
    }

    /// The options area, mutable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.m()[field::OPTIONS]
    }
}

/// What the controller reads from a DHCP message, as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpRepr<'a> {
    /// The message type.
    pub message_type: MessageType,
    /// The transaction id.
    pub xid: u32,
    /// The client's MAC address (`chaddr`).
    pub client_mac: [u8; 6],
    /// `ciaddr`.
    pub client_ip: Ipv4Addr,
    /// `yiaddr`.
    pub your_ip: Ipv4Addr,
    /// The broadcast flag.
    pub broadcast: bool,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 12, as sent (1..=255 bytes).
    pub host_name: Option<&'a [u8]>,
}

fn ipv4_option(data: &[u8]) -> Result<Ipv4Addr> {
    match data {
        &[a, b, c, d] => Ok(Ipv4Addr::new(a, b, c, d)),
        _ => Err(Error::Malformed),
    }
}

impl<'a> DhcpRepr<'a> {
    /// Reads a message strictly: the magic cookie (`Malformed`), Ethernet client
    /// addresses (`Unsupported` otherwise), well-formed options (`Truncated`), a message
    /// type (`Unsupported` without: plain BOOTP), an `op` that agrees with it and
    /// option lengths that fit their meaning (`Malformed`).
    pub fn parse(p: &DhcpPacket<&'a [u8]>) -> Result<DhcpRepr<'a>> {
        p.check_len()?;
        if !p.has_magic() {
            return Err(Error::Malformed);
        }
        let client_mac = p.client_mac().ok_or(Error::Unsupported)?;
        let b: &'a [u8] = p.buffer;
        let options = DhcpOptionIter::new(&b[field::OPTIONS], &b[field::FILE], &b[field::SNAME]);
        let (mut message_type, mut requested_ip, mut server_id, mut host_name) =
            (None, None, None, None);
        for o in options {
            let o = o?;
            match o.code {
                option::MESSAGE_TYPE if message_type.is_none() => match o.data {
                    &[t] => message_type = Some(MessageType::from(t)),
                    _ => return Err(Error::Malformed),
                },
                option::REQUESTED_IP if requested_ip.is_none() => {
                    requested_ip = Some(ipv4_option(o.data)?)
                }
                option::SERVER_ID if server_id.is_none() => server_id = Some(ipv4_option(o.data)?),
                option::HOST_NAME if host_name.is_none() => {
                    if o.data.is_empty() {
                        return Err(Error::Malformed);
                    }
                    host_name = Some(o.data)
                }
                _ => {}
            }
        }
        let message_type = message_type.ok_or(Error::Unsupported)?;
        match (message_type.op(), p.op()) {
            (Some(want), got) if want != got => return Err(Error::Malformed),
            (None, OpCode::Unknown(_)) => return Err(Error::Malformed),
            _ => {}
        }
        Ok(DhcpRepr {
            message_type,
            xid: p.xid(),
            client_mac,
            client_ip: p.client_ip(),
            your_ip: p.your_ip(),
            broadcast: p.flags() & FLAG_BROADCAST != 0,
            requested_ip,
            server_id,
            host_name,
        })
    }

    /// Bytes [`emit`](Self::emit) writes: the fixed part, the options, End.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + 3
            + self.requested_ip.map_or(0, |_| 6)
            + self.server_id.map_or(0, |_| 6)
            + self.host_name.map_or(0, |n| 2 + n.len())
            + 1
    }

    /// Writes the message into the front of the view's buffer: `Malformed` for a host
    /// name not 1..=255 bytes long, `BufferTooSmall` if it does not fit.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut DhcpPacket<T>) -> Result<()> {
        if let Some(n) = self.host_name {
            if n.is_empty() || n.len() > 255 {
                return Err(Error::Malformed);
            }
        }
        let len = self.buffer_len();
        if p.buffer.as_ref().len() < len {
            return Err(Error::BufferTooSmall);
        }
        p.m()[..HEADER_LEN].fill(0);
        p.set_op(self.message_type.op().unwrap_or(OpCode::Request));
        p.set_hardware(HTYPE_ETHERNET, 6);
        p.set_xid(self.xid);
        p.set_flags(if self.broadcast { FLAG_BROADCAST } else { 0 });
        p.set_client_ip(self.client_ip);
        p.set_your_ip(self.your_ip);
        p.set_client_hardware_addr(&self.client_mac);
        p.set_magic();
        let out = &mut p.options_mut()[..len - HEADER_LEN];
        let mut at = 0;
        let mut put = |code: u8, data: &[u8]| {
            out[at] = code;
            out[at + 1] = data.len() as u8;
            out[at + 2..at + 2 + data.len()].copy_from_slice(data);
            at += 2 + data.len();
        };
        put(option::MESSAGE_TYPE, &[self.message_type.into()]);
        if let Some(a) = self.requested_ip {
            put(option::REQUESTED_IP, &a.octets());
        }
        if let Some(a) = self.server_id {
            put(option::SERVER_ID, &a.octets());
        }
        if let Some(n) = self.host_name {
            put(option::HOST_NAME, n);
        }
        out[at] = option::END;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];

    fn ack() -> DhcpRepr<'static> {
        DhcpRepr {
            message_type: MessageType::Ack,
            xid: 0x1234_5678,
            client_mac: MAC,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: Ipv4Addr::new(198, 51, 100, 10),
            broadcast: true,
            requested_ip: None,
            server_id: Some(Ipv4Addr::new(198, 51, 100, 1)),
            host_name: Some(b"alice"),
        }
    }

    fn emitted(r: &DhcpRepr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5; r.buffer_len() + 3];
        r.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]))
            .unwrap();
        buf
    }

    /// A DHCPACK written byte by byte from RFC 2131's layout.
    fn literal_ack() -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b[0] = 2; // op: reply
        b[1] = 1; // htype: Ethernet
        b[2] = 6; // hlen
        b[4..8].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        b[10] = 0x80; // broadcast
        b[16..20].copy_from_slice(&[198, 51, 100, 10]);
        b[28..34].copy_from_slice(&MAC);
        b[236..240].copy_from_slice(&[99, 130, 83, 99]);
        b.extend_from_slice(&[53, 1, 5]);
        b.extend_from_slice(&[54, 4, 198, 51, 100, 1]);
        b.extend_from_slice(&[12, 5, b'a', b'l', b'i', b'c', b'e']);
        b.push(255);
        b
    }

    #[test]
    fn parses_a_literal_ack() {
        let b = literal_ack();
        let p = DhcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.op(), OpCode::Reply);
        assert_eq!(p.xid(), 0x1234_5678);
        assert_eq!(p.your_ip(), Ipv4Addr::new(198, 51, 100, 10));
        assert_eq!(p.client_mac(), Some(MAC));
        assert_eq!(p.message_type(), Some(MessageType::Ack));
        assert_eq!(p.option(option::HOST_NAME), Some(&b"alice"[..]));
        assert_eq!(p.option(option::ROUTER), None);
        assert_eq!(DhcpRepr::parse(&p).unwrap(), ack());
    }

    #[test]
    fn emits_exactly_what_it_parses_and_nothing_past_it() {
        let r = ack();
        let buf = emitted(&r);
        assert_eq!(&buf[..r.buffer_len()], &literal_ack()[..]);
        assert_eq!(&buf[r.buffer_len()..], [0xa5; 3]);
        let request = DhcpRepr {
            message_type: MessageType::Request,
            requested_ip: Some(Ipv4Addr::new(198, 51, 100, 10)),
            server_id: None,
            your_ip: Ipv4Addr::UNSPECIFIED,
            broadcast: false,
            ..r
        };
        let b = emitted(&request);
        let p = DhcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.op(), OpCode::Request);
        assert_eq!(DhcpRepr::parse(&p).unwrap(), request);
        let mut small = vec![0u8; r.buffer_len() - 1];
        assert_eq!(
            r.emit(&mut DhcpPacket::new_unchecked(&mut small[..])),
            Err(Error::BufferTooSmall)
        );
        let long = [b'x'; 256];
        let bad = DhcpRepr {
            host_name: Some(&long),
            ..r
        };
        assert_eq!(
            bad.emit(&mut DhcpPacket::new_unchecked(&mut vec![0; 600][..])),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn overloaded_options_are_read_from_file_then_sname() {
        let mut b = literal_ack();
        b.truncate(HEADER_LEN);
        b.extend_from_slice(&[52, 1, 3, 0, 0, 255]); // overload both, pads, end
        b[field::FILE.start..field::FILE.start + 3].copy_from_slice(&[53, 1, 5]);
        b[field::FILE.start + 3] = 255;
        b[field::SNAME.start..field::SNAME.start + 4].copy_from_slice(&[12, 2, b'h', b'1']);
        let p = DhcpPacket::new_checked(&b[..]).unwrap();
        let codes: Vec<u8> = p.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [52, 53, 12]);
        let r = DhcpRepr::parse(&p).unwrap();
        assert_eq!(r.message_type, MessageType::Ack);
        assert_eq!(r.host_name, Some(&b"h1"[..]));
        // Without the overload option, file and sname are not options.
        b[HEADER_LEN] = 0;
        let p = DhcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.message_type(), None);
        assert_eq!(DhcpRepr::parse(&p), Err(Error::Unsupported));
    }

    #[test]
    fn malformed_messages_are_refused() {
        let good = literal_ack();
        let mut m = good.clone();
        m[236] = 0; // magic
        assert_eq!(
            DhcpRepr::parse(&DhcpPacket::new_unchecked(&m[..])),
            Err(Error::Malformed)
        );
        let mut m = good.clone();
        m[0] = 1; // an ACK from a client
        assert_eq!(
            DhcpRepr::parse(&DhcpPacket::new_unchecked(&m[..])),
            Err(Error::Malformed)
        );
        let mut m = good.clone();
        m[2] = 8; // not an Ethernet address
        assert_eq!(
            DhcpRepr::parse(&DhcpPacket::new_unchecked(&m[..])),
            Err(Error::Unsupported)
        );
        let mut m = good.clone();
        m[HEADER_LEN + 4] = 3; // server id of 3 bytes: then the rest is misread
        assert!(DhcpRepr::parse(&DhcpPacket::new_unchecked(&m[..])).is_err());
        assert_eq!(
            DhcpPacket::new_checked(&good[..HEADER_LEN - 1]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn every_truncation_of_the_options_is_an_error_or_a_prefix() {
        let good = literal_ack();
        for cut in 0..good.len() {
            let b = &good[..cut];
            match DhcpPacket::new_checked(b) {
                Err(e) => assert!(cut < HEADER_LEN && e == Error::Truncated),
                Ok(p) => {
                    // Options cut inside one: an error, never a panic or a misread.
                    let r = DhcpRepr::parse(&p);
                    let whole_options_end = [HEADER_LEN + 3, HEADER_LEN + 9, HEADER_LEN + 16];
                    if whole_options_end.contains(&cut) {
                        assert!(r.is_ok(), "cut {cut}: {r:?}");
                    } else {
                        assert!(r.is_err(), "cut {cut}: {r:?}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(p) = DhcpPacket::new_checked(&bytes[..]) {
                let n = p.options().count();
                prop_assert!(n <= bytes.len());
                let _ = (p.message_type(), p.client_mac(), p.option(option::HOST_NAME));
                let _ = DhcpRepr::parse(&p);
            }
        }

        #[test]
        fn mutated_acks_never_panic(
            edits in proptest::collection::vec((0..270usize, any::<u8>()), 1..8),
            overload in 0u8..4,
        ) {
            let mut b = literal_ack();
            b.resize(270, 0);
            // The overload option in place of End, then End.
            b[HEADER_LEN + 16..HEADER_LEN + 19].copy_from_slice(&[52, 1, overload]);
            b[HEADER_LEN + 19] = option::END;
            for (at, v) in edits {
                b[at] = v;
            }
            let p = DhcpPacket::new_checked(&b[..]).unwrap();
            if let Ok(r) = DhcpRepr::parse(&p) {
                // Whatever parses emits and parses back the same.
                let mut out = vec![0u8; r.buffer_len()];
                r.emit(&mut DhcpPacket::new_unchecked(&mut out[..])).unwrap();
                let back = DhcpRepr::parse(&DhcpPacket::new_checked(&out[..]).unwrap());
                prop_assert_eq!(back, Ok(r));
            }
        }
    }
}
