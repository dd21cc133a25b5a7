//! ICMP for IPv6 (RFC 4443) and neighbor discovery (RFC 4861) with its options.
//!
//! Every message starts with the same 8 bytes (type, code, checksum, four message bytes):
//! that is what [`Icmpv6Packet::check_len`] checks, so that the type and code of any
//! message can be read. The rest of the fixed part depends on the type — 16 bytes for a
//! router advertisement, 24 for neighbor solicitation and advertisement (the target
//! address), 40 for a redirect — and [`Icmpv6Packet::check_message_len`] checks it. The
//! accessors of those type-specific fields ([`target_addr`](Icmpv6Packet::target_addr),
//! [`router_advert`](Icmpv6Packet::router_advert), [`nd_options`](Icmpv6Packet::nd_options))
//! answer `None` or nothing when the type or the length does not fit, so no accessor
//! panics after `check_len`. The checksum covers the IPv6 pseudo-header.

use core::net::Ipv6Addr;

use super::{
    get_array, get_u16, protocol_enum, set_u16, Error, EthernetAddress, Field, IpProtocol,
    PseudoHeader, Result,
};

protocol_enum! {
    /// ICMPv6 message type.
    pub enum Icmpv6Message(u8) {
        /// Destination unreachable.
        DstUnreachable = 1,
        /// Packet too big.
        PktTooBig = 2,
        /// Time exceeded.
        TimeExceeded = 3,
        /// Parameter problem.
        ParamProblem = 4,
        /// Echo request.
        EchoRequest = 128,
        /// Echo reply.
        EchoReply = 129,
        /// Multicast listener query.
        MldQuery = 130,
        /// Multicast listener report (v1).
        MldReport = 131,
        /// Router solicitation.
        RouterSolicit = 133,
        /// Router advertisement.
        RouterAdvert = 134,
        /// Neighbor solicitation.
        NeighborSolicit = 135,
        /// Neighbor advertisement.
        NeighborAdvert = 136,
        /// Redirect.
        Redirect = 137,
        /// Multicast listener report (v2).
        MldV2Report = 143,
    }
}

impl Icmpv6Message {
    /// Whether this is one of the neighbor discovery messages (133..=137).
    #[inline]
    pub fn is_ndisc(self) -> bool {
        matches!(
            self,
            Icmpv6Message::RouterSolicit
                | Icmpv6Message::RouterAdvert
                | Icmpv6Message::NeighborSolicit
                | Icmpv6Message::NeighborAdvert
                | Icmpv6Message::Redirect
        )
    }
}

mod field {
    use crate::wire::Field;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    // Echo.
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQNO: Field = 6..8;
    // Neighbor advertisement flags (R, S, O).
    pub const NEIGH_FLAGS: usize = 4;
    // Router advertisement.
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const ROUTER_FLAGS: usize = 5;
    pub const ROUTER_LT: Field = 6..8;
    pub const REACHABLE_TM: Field = 8..12;
    pub const RETRANS_TM: Field = 12..16;
    // Neighbor solicitation/advertisement and redirect.
    pub const TARGET_ADDR: Field = 8..24;
    // Redirect.
    pub const DEST_ADDR: Field = 24..40;

    /// End of the common part: type, code, checksum and four message bytes.
    pub const COMMON_END: usize = 8;
    /// Where the options start, per message type.
    pub const RS_OPTIONS: usize = COMMON_END;
    pub const RA_OPTIONS: usize = RETRANS_TM.end;
    pub const NEIGH_OPTIONS: usize = TARGET_ADDR.end;
    pub const REDIRECT_OPTIONS: usize = DEST_ADDR.end;
}

/// Length of the common header (type, code, checksum, four message-specific bytes).
pub const HEADER_LEN: usize = field::COMMON_END;

/// Offset of the checksum field (after the type and code word).
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// Offset of the target address of a neighbor solicitation or advertisement.
pub const ND_TARGET_OFFSET: usize = field::TARGET_ADDR.start;

/// Neighbor advertisement flag: sender is a router.
pub const NEIGH_FLAG_ROUTER: u8 = 0x80;
/// Neighbor advertisement flag: sent in response to a solicitation.
pub const NEIGH_FLAG_SOLICITED: u8 = 0x40;
/// Neighbor advertisement flag: override an existing cache entry.
pub const NEIGH_FLAG_OVERRIDE: u8 = 0x20;

/// A view of an ICMPv6 message. The buffer should be the whole message (the IPv6 payload
/// past any extension headers): the checksum covers all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the 8 bytes every message starts with.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Ok if the buffer also holds the whole fixed part of its message type (see
    /// [`header_len`](Self::header_len)); call after [`check_len`](Self::check_len).
    #[inline]
    pub fn check_message_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < self.header_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Message type.
    #[inline]
    pub fn msg_type(&self) -> Icmpv6Message {
        Icmpv6Message::from(self.buffer.as_ref()[field::TYPE])
    }

    /// Message code.
    #[inline]
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum.
    #[inline]
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Length of the fixed part of this message type (options or data follow it).
    #[inline]
    pub fn header_len(&self) -> usize {
        match self.msg_type() {
            Icmpv6Message::RouterAdvert => field::RA_OPTIONS,
            Icmpv6Message::NeighborSolicit | Icmpv6Message::NeighborAdvert => field::NEIGH_OPTIONS,
            Icmpv6Message::Redirect => field::REDIRECT_OPTIONS,
            _ => field::COMMON_END,
        }
    }

    /// Echo identifier (meaningful for echo messages).
    #[inline]
    pub fn echo_ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Echo sequence number (meaningful for echo messages).
    #[inline]
    pub fn echo_seq_no(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// Neighbor advertisement flags (`NEIGH_FLAG_*`; meaningful for advertisements).
    #[inline]
    pub fn neighbor_flags(&self) -> u8 {
        self.buffer.as_ref()[field::NEIGH_FLAGS] & 0xe0
    }

    /// Router advertisement: current hop limit, flags, router lifetime (s), reachable time
    /// (ms), retransmit timer (ms); `None` for other types or a short buffer.
    pub fn router_advert(&self) -> Option<(u8, u8, u16, u32, u32)> {
        let b = self.buffer.as_ref();
        if self.msg_type() != Icmpv6Message::RouterAdvert || b.len() < field::RA_OPTIONS {
            return None;
        }
        Some((
            b[field::CUR_HOP_LIMIT],
            b[field::ROUTER_FLAGS],
            get_u16(b, field::ROUTER_LT),
            super::get_u32(b, field::REACHABLE_TM),
            super::get_u32(b, field::RETRANS_TM),
        ))
    }

    #[inline]
    fn typed_field(&self, f: Field, types: &[Icmpv6Message]) -> Option<Field> {
        (types.contains(&self.msg_type()) && self.buffer.as_ref().len() >= f.end).then_some(f)
    }

    #[inline]
    fn target_field(&self) -> Option<Field> {
        self.typed_field(
            field::TARGET_ADDR,
            &[
                Icmpv6Message::NeighborSolicit,
                Icmpv6Message::NeighborAdvert,
                Icmpv6Message::Redirect,
            ],
        )
    }

    /// Target address of a neighbor solicitation, advertisement or redirect; `None` for
    /// other types (or a buffer too short for it).
    #[inline]
    pub fn target_addr(&self) -> Option<Ipv6Addr> {
        let f = self.target_field()?;
        Some(Ipv6Addr::from(get_array::<16>(self.buffer.as_ref(), f)))
    }

    /// Destination address of a redirect; `None` for other types.
    #[inline]
    pub fn redirect_dest(&self) -> Option<Ipv6Addr> {
        let f = self.typed_field(field::DEST_ADDR, &[Icmpv6Message::Redirect])?;
        Some(Ipv6Addr::from(get_array::<16>(self.buffer.as_ref(), f)))
    }

    /// The neighbor discovery options of an ND message; empty for other types.
    #[inline]
    pub fn nd_options(&self) -> NdOptionIter<'_> {
        let b = self.buffer.as_ref();
        let start = match self.msg_type() {
            Icmpv6Message::RouterSolicit => field::RS_OPTIONS,
            t if t.is_ndisc() => self.header_len(),
            _ => b.len(),
        };
        NdOptionIter::new(b.get(start..).unwrap_or(&[]))
    }

    /// Everything after the fixed part of this message type.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(self.header_len()..).unwrap_or(&[])
    }

    /// Whether the checksum verifies over the whole buffer under `ph`.
    #[inline]
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        ph.verify(IpProtocol::Icmpv6, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the message type (which may change [`header_len`](Icmpv6Packet::header_len):
    /// check the length again).
    #[inline]
    pub fn set_msg_type(&mut self, value: Icmpv6Message) {
        self.buffer.as_mut()[field::TYPE] = value.into();
    }

    /// Sets the message code.
    #[inline]
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// Sets the checksum.
    #[inline]
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the echo identifier.
    #[inline]
    pub fn set_echo_ident(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_IDENT, value);
    }

    /// Sets the echo sequence number.
    #[inline]
    pub fn set_echo_seq_no(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_SEQNO, value);
    }

    /// Sets the four message-specific bytes after the checksum to zero (the reserved field
    /// of most ND messages).
    #[inline]
    pub fn clear_reserved(&mut self) {
        self.buffer.as_mut()[field::ECHO_IDENT.start..field::COMMON_END].fill(0);
    }

    /// Sets the neighbor advertisement flags (`NEIGH_FLAG_*`), clearing the reserved bits.
    #[inline]
    pub fn set_neighbor_flags(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEIGH_FLAGS] = value & 0xe0;
    }

    /// Sets the target address; `Unsupported` if the message type has none, `Truncated` if
    /// the buffer is too short for it.
    #[inline]
    pub fn set_target_addr(&mut self, value: Ipv6Addr) -> Result<()> {
        let t = self.msg_type();
        if !matches!(
            t,
            Icmpv6Message::NeighborSolicit
                | Icmpv6Message::NeighborAdvert
                | Icmpv6Message::Redirect
        ) {
            return Err(Error::Unsupported);
        }
        let f = self.target_field().ok_or(Error::Truncated)?;
        self.buffer.as_mut()[f].copy_from_slice(&value.octets());
        Ok(())
    }

    /// Everything after the fixed part of this message type, mutable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        self.buffer.as_mut().get_mut(start..).unwrap_or(&mut [])
    }

    /// Computes the checksum over the whole buffer under `ph` and stores it.
    #[inline]
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let c = ph.checksum(IpProtocol::Icmpv6, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

protocol_enum! {
    /// Neighbor discovery option type.
    pub enum NdOptionType(u8) {
        /// Source link-layer address.
        SourceLinkLayerAddr = 1,
        /// Target link-layer address.
        TargetLinkLayerAddr = 2,
        /// Prefix information.
        PrefixInformation = 3,
        /// Redirected header.
        RedirectedHeader = 4,
        /// MTU.
        Mtu = 5,
    }
}

mod opt_field {
    use crate::wire::Field;

    pub const TYPE: usize = 0;
    pub const LENGTH: usize = 1;
    pub const DATA_START: usize = 2;
    pub const LL_ADDR: Field = 2..8;
}

/// Every ND option's length is a multiple of this.
pub const ND_OPTION_UNIT: usize = 8;

/// A view of one neighbor discovery option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NdOption<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NdOption<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        NdOption { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let o = Self::new_unchecked(buffer);
        o.check_len()?;
        Ok(o)
    }

    /// Ok if the buffer holds the whole option; `Malformed` for a length field of zero.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < opt_field::DATA_START {
            Err(Error::Truncated)
        } else if b[opt_field::LENGTH] == 0 {
            Err(Error::Malformed)
        } else if b.len() < self.total_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Option type.
    #[inline]
    pub fn option_type(&self) -> NdOptionType {
        NdOptionType::from(self.buffer.as_ref()[opt_field::TYPE])
    }

    /// Length of the option in bytes, type and length included.
    #[inline]
    pub fn total_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[opt_field::LENGTH]) * ND_OPTION_UNIT
    }

    /// The option's data after type and length.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[opt_field::DATA_START..self.total_len()]
    }

    /// The Ethernet address of a source or target link-layer address option of length 1;
    /// `None` otherwise.
    #[inline]
    pub fn link_layer_addr(&self) -> Option<EthernetAddress> {
        match self.option_type() {
            NdOptionType::SourceLinkLayerAddr | NdOptionType::TargetLinkLayerAddr
                if self.total_len() == ND_OPTION_UNIT =>
            {
                Some(EthernetAddress(get_array(
                    self.buffer.as_ref(),
                    opt_field::LL_ADDR,
                )))
            }
            _ => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NdOption<T> {
    /// Sets the option type.
    #[inline]
    pub fn set_option_type(&mut self, value: NdOptionType) {
        self.buffer.as_mut()[opt_field::TYPE] = value.into();
    }

    /// Sets the length in bytes (a multiple of 8, at most 2040).
    #[inline]
    pub fn set_total_len(&mut self, value: usize) {
        self.buffer.as_mut()[opt_field::LENGTH] = (value / ND_OPTION_UNIT).min(255) as u8;
    }

    /// The option's data, mutable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        &mut self.buffer.as_mut()[opt_field::DATA_START..end]
    }
}

/// Emits a source (or target) link-layer address option into `buf` (8 bytes).
pub fn emit_link_layer_option(
    buf: &mut [u8],
    kind: NdOptionType,
    addr: EthernetAddress,
) -> Result<()> {
    let buf = buf.get_mut(..ND_OPTION_UNIT).ok_or(Error::BufferTooSmall)?;
    let mut o = NdOption::new_unchecked(buf);
    o.set_option_type(kind);
    o.set_total_len(ND_OPTION_UNIT);
    o.data_mut().copy_from_slice(&addr.0);
    Ok(())
}

/// Iterator over the ND options in a byte run. Yields each option, or one error (a zero
/// length, an option past the end) after which it stops.
#[derive(Debug, Clone)]
pub struct NdOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> NdOptionIter<'a> {
    /// Iterates over the options in `bytes`.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Self {
        NdOptionIter { rest: bytes }
    }
}

impl<'a> Iterator for NdOptionIter<'a> {
    type Item = Result<NdOption<&'a [u8]>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match NdOption::new_checked(self.rest) {
            Ok(o) => {
                let len = o.total_len();
                let (this, rest) = self.rest.split_at(len);
                self.rest = rest;
                Some(Ok(NdOption::new_unchecked(this)))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for NdOptionIter<'_> {}

/// An ICMPv6 echo or neighbor message as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6Repr<'a> {
    /// Echo request.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Neighbor solicitation.
    NeighborSolicit {
        /// Target address.
        target_addr: Ipv6Addr,
        /// Source link-layer address option.
        lladdr: Option<EthernetAddress>,
    },
    /// Neighbor advertisement.
    NeighborAdvert {
        /// `NEIGH_FLAG_*` bits.
        flags: u8,
        /// Target address.
        target_addr: Ipv6Addr,
        /// Target link-layer address option.
        lladdr: Option<EthernetAddress>,
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Reads a message (the buffer being the whole message): `Checksum` if it does not
    /// verify under `ph`, `Malformed` for a bad option, `Unsupported` for other types.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        p: &Icmpv6Packet<&'a T>,
        ph: &PseudoHeader,
    ) -> Result<Icmpv6Repr<'a>> {
        p.check_len()?;
        p.check_message_len()?;
        if !p.verify_checksum(ph) {
            return Err(Error::Checksum);
        }
        let lladdr = |want: NdOptionType| -> Result<Option<EthernetAddress>> {
            let mut found = None;
            for o in p.nd_options() {
                let o = o?;
                if o.option_type() == want {
                    found = Some(o.link_layer_addr().ok_or(Error::Malformed)?);
                }
            }
            Ok(found)
        };
        let b: &'a [u8] = p.buffer.as_ref();
        let data = b.get(field::COMMON_END..).unwrap_or(&[]);
        match p.msg_type() {
            Icmpv6Message::EchoRequest => Ok(Icmpv6Repr::EchoRequest {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data,
            }),
            Icmpv6Message::EchoReply => Ok(Icmpv6Repr::EchoReply {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data,
            }),
            Icmpv6Message::NeighborSolicit => Ok(Icmpv6Repr::NeighborSolicit {
                target_addr: p.target_addr().ok_or(Error::Truncated)?,
                lladdr: lladdr(NdOptionType::SourceLinkLayerAddr)?,
            }),
            Icmpv6Message::NeighborAdvert => Ok(Icmpv6Repr::NeighborAdvert {
                flags: p.neighbor_flags(),
                target_addr: p.target_addr().ok_or(Error::Truncated)?,
                lladdr: lladdr(NdOptionType::TargetLinkLayerAddr)?,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => {
                HEADER_LEN + data.len()
            }
            Icmpv6Repr::NeighborSolicit { lladdr, .. }
            | Icmpv6Repr::NeighborAdvert { lladdr, .. } => {
                field::NEIGH_OPTIONS + if lladdr.is_some() { ND_OPTION_UNIT } else { 0 }
            }
        }
    }

    /// Writes the message with its checksum under `ph`; the view's buffer must be exactly
    /// [`buffer_len`](Self::buffer_len) long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut Icmpv6Packet<T>,
        ph: &PseudoHeader,
    ) -> Result<()> {
        if p.buffer.as_ref().len() != self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        p.set_msg_code(0);
        match *self {
            Icmpv6Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }
            | Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => {
                let t = if matches!(self, Icmpv6Repr::EchoRequest { .. }) {
                    Icmpv6Message::EchoRequest
                } else {
                    Icmpv6Message::EchoReply
                };
                p.set_msg_type(t);
                p.set_echo_ident(ident);
                p.set_echo_seq_no(seq_no);
                p.payload_mut().copy_from_slice(data);
            }
            Icmpv6Repr::NeighborSolicit {
                target_addr,
                lladdr,
            } => {
                p.set_msg_type(Icmpv6Message::NeighborSolicit);
                p.clear_reserved();
                p.set_target_addr(target_addr)?;
                if let Some(a) = lladdr {
                    emit_link_layer_option(p.payload_mut(), NdOptionType::SourceLinkLayerAddr, a)?;
                }
            }
            Icmpv6Repr::NeighborAdvert {
                flags,
                target_addr,
                lladdr,
            } => {
                p.set_msg_type(Icmpv6Message::NeighborAdvert);
                p.clear_reserved();
                p.set_neighbor_flags(flags);
                p.set_target_addr(target_addr)?;
                if let Some(a) = lladdr {
                    emit_link_layer_option(p.payload_mut(), NdOptionType::TargetLinkLayerAddr, a)?;
                }
            }
        }
        p.fill_checksum(ph);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph() -> PseudoHeader {
        PseudoHeader::V6 {
            src: "fe80::1".parse().unwrap(),
            dst: "ff02::1:ff00:2".parse().unwrap(),
        }
    }

    // Neighbor solicitation for fe80::2 with a source link-layer option 02:00:00:00:00:01;
    // checksum filled by `ns()`.
    const NS: [u8; 32] = [
        0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, //
        0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    fn ns() -> [u8; 32] {
        let mut b = NS;
        let c = ph().checksum(IpProtocol::Icmpv6, &b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parse_ns() {
        let b = ns();
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.msg_type(), Icmpv6Message::NeighborSolicit);
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.target_addr(), Some("fe80::2".parse().unwrap()));
        assert_eq!(p.redirect_dest(), None);
        let opts: Vec<_> = p.nd_options().collect();
        assert_eq!(opts.len(), 1);
        let o = opts[0].as_ref().unwrap();
        assert_eq!(o.option_type(), NdOptionType::SourceLinkLayerAddr);
        assert_eq!(
            o.link_layer_addr(),
            Some(EthernetAddress([2, 0, 0, 0, 0, 1]))
        );
        assert!(p.verify_checksum(&ph()));
        assert_eq!(
            Icmpv6Repr::parse(&p, &ph()).unwrap(),
            Icmpv6Repr::NeighborSolicit {
                target_addr: "fe80::2".parse().unwrap(),
                lladdr: Some(EthernetAddress([2, 0, 0, 0, 0, 1])),
            }
        );
    }

    #[test]
    fn emit_ns() {
        let r = Icmpv6Repr::NeighborSolicit {
            target_addr: "fe80::2".parse().unwrap(),
            lladdr: Some(EthernetAddress([2, 0, 0, 0, 0, 1])),
        };
        assert_eq!(r.buffer_len(), 32);
        let mut buf = [0xa5u8; 33];
        r.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..32]), &ph())
            .unwrap();
        assert_eq!(&buf[..32], &ns()[..]);
        assert_eq!(buf[32], 0xa5);
    }

    #[test]
    fn neighbor_advert_round_trip() {
        let r = Icmpv6Repr::NeighborAdvert {
            flags: NEIGH_FLAG_SOLICITED | NEIGH_FLAG_OVERRIDE,
            target_addr: "fe80::2".parse().unwrap(),
            lladdr: Some(EthernetAddress([2, 0, 0, 0, 0, 2])),
        };
        let mut buf = [0xa5u8; 32];
        r.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &ph())
            .unwrap();
        assert_eq!(&buf[..8], &[136, 0, buf[2], buf[3], 0x60, 0, 0, 0]);
        assert_eq!(&buf[24..26], &[2, 1]);
        let p = Icmpv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.neighbor_flags(), 0x60);
        assert_eq!(Icmpv6Repr::parse(&p, &ph()).unwrap(), r);
    }

    #[test]
    fn echo_round_trip() {
        let r = Icmpv6Repr::EchoRequest {
            ident: 7,
            seq_no: 9,
            data: b"abc",
        };
        let mut buf = [0xa5u8; 11];
        r.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &ph())
            .unwrap();
        assert_eq!(&buf[..2], &[128, 0]);
        assert_eq!(&buf[4..], &[0, 7, 0, 9, b'a', b'b', b'c']);
        let p = Icmpv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.target_addr(), None);
        assert_eq!(p.nd_options().count(), 0);
        assert_eq!(Icmpv6Repr::parse(&p, &ph()).unwrap(), r);
    }

    #[test]
    fn truncation_and_bad_options() {
        let b = ns();
        // A solicitation needs 24 bytes; its type and code need 8.
        let cut = Icmpv6Packet::new_checked(&b[..23]).unwrap();
        assert_eq!(cut.msg_type(), Icmpv6Message::NeighborSolicit);
        assert_eq!(cut.check_message_len(), Err(Error::Truncated));
        assert_eq!(cut.target_addr(), None);
        assert_eq!(Icmpv6Repr::parse(&cut, &ph()), Err(Error::Truncated));
        assert_eq!(
            Icmpv6Packet::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
        // An unchecked short view still answers without panicking.
        let short = Icmpv6Packet::new_unchecked(&b[..12]);
        assert_eq!(short.target_addr(), None);
        assert!(short.payload().is_empty());
        assert_eq!(short.nd_options().count(), 0);
        // Option length zero.
        let mut m = NS;
        m[25] = 0;
        let p = Icmpv6Packet::new_checked(&m[..]).unwrap();
        assert_eq!(
            p.nd_options().collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        // Option running past the end.
        m[25] = 2;
        let p = Icmpv6Packet::new_checked(&m[..]).unwrap();
        assert_eq!(
            p.nd_options().collect::<Vec<_>>(),
            vec![Err(Error::Truncated)]
        );
        // Bad checksum.
        let mut c = ns();
        c[31] ^= 1;
        let p = Icmpv6Packet::new_checked(&c[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, &ph()), Err(Error::Checksum));
    }

    #[test]
    fn router_advert_fields() {
        let mut b = [0u8; 16];
        b[0] = 134;
        b[4] = 64;
        b[5] = 0x80;
        b[6..8].copy_from_slice(&1800u16.to_be_bytes());
        b[8..12].copy_from_slice(&30_000u32.to_be_bytes());
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.router_advert(), Some((64, 0x80, 1800, 30_000, 0)));
        let cut = Icmpv6Packet::new_checked(&b[..15]).unwrap();
        assert_eq!(cut.check_message_len(), Err(Error::Truncated));
        assert_eq!(cut.router_advert(), None);
        let mut b2 = b;
        b2[0] = 128;
        assert_eq!(Icmpv6Packet::new_unchecked(&b2[..]).router_advert(), None);
    }
}
