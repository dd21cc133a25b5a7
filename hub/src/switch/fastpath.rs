//! The fast path: drain a ready port one batch at a time, decide every frame, then hand
//! each output port its frames in one send; frames a full peer refuses wait in its bounded
//! queue, flushed on writability. The rules are in the `switch` module essay.

use super::*;

/// Frame indices per output port for the batch being processed.
pub(super) struct OutLists {
    pub(super) lists: Vec<Vec<u8>>,
    pub(super) touched: Vec<u32>,
}

impl OutLists {
    pub(super) fn push(&mut self, port: u32, frame: usize) {
        let p = port as usize;
        if p >= self.lists.len() {
            self.lists.resize_with(p + 1, Vec::new);
        }
        if self.lists[p].is_empty() {
            self.touched.push(port);
        }
        self.lists[p].push(frame as u8);
    }
}

impl Switch {
    pub(super) fn on_port(&mut self, n: u32, flags: u32) {
        if flags & libc::EPOLLOUT as u32 != 0 {
            self.flush_queue(n);
        }
        if flags & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
            let Some(slot) = self.ports.get_mut(n as usize).and_then(Option::as_mut) else {
                return;
            };
            match slot.io.recv_batch(&mut self.batch) {
                Ok(0) => {
                    if flags & libc::EPOLLHUP as u32 != 0 && slot.conn.is_none() {
                        self.log.error(&format!("port {n} ({}) hung up", slot.name));
                        self.remove_port(n);
                    }
                }
                Ok(count) => {
                    if slot.dump {
                        // A dump port only listens.
                        return;
                    }
                    if self.of.is_some() {
                        self.of_forward_range(n, 0, count);
                    } else {
                        self.forward_range(n, 0, count);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && slot.conn.is_none() => {
                    // A vector-transport guest went away: its connection was the port.
                    self.log
                        .line(&format!("port {n} ({}) closed by the peer", slot.name));
                    self.remove_port(n);
                }
                Err(e) => {
                    slot.counters.rx_errors += 1;
                    self.log
                        .rate_limited(&format!("port {n} ({}): receive failed: {e}", slot.name));
                    if slot.conn.is_none() && e.raw_os_error() != Some(libc::EAGAIN) {
                        self.remove_port(n);
                    }
                }
            }
        }
    }

    pub(super) fn on_shared(&mut self) {
        let Some(shared) = &mut self.shared else {
            return;
        };
        match recv_batch_from(
            shared.fd.as_raw_fd(),
            &mut self.batch,
            Some(&mut shared.addrs),
        ) {
            Ok(count) => self.on_shared_tail(0, count),
            Err(e) => self
                .log
                .rate_limited(&format!("v0 data socket: receive failed: {e}")),
        }
    }

    /// Forwards frames `i..count` of a batch read from the shared v0 socket, one run of
    /// frames from the same sender at a time.
    pub(super) fn on_shared_tail(&mut self, mut i: usize, count: usize) {
        while i < count {
            let Some(shared) = &self.shared else { return };
            let Some(&port) = shared.by_addr.get(&shared.addrs[i]) else {
                self.stats.unknown_senders += 1;
                let from = shared.addrs[i];
                self.log.rate_limited(&format!(
                    "Unknown connection for packet from {from}: dropped"
                ));
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while j < count && shared.by_addr.get(&shared.addrs[j]) == Some(&port) {
                j += 1;
            }
            if self.of.is_some() {
                self.of_forward_range(port, i, j);
            } else {
                self.forward_range(port, i, j);
            }
            i = j;
        }
    }

    /// Forwards frames `from..to` of the current batch, all received on `in_port`.
    pub(super) fn forward_range(&mut self, in_port: u32, from: usize, to: usize) {
        self.stats.rx_batches += 1;
        let now_ms = self.start.elapsed().as_millis() as u64;
        let max_ports = self.ports.len();
        let capture_time = (self.captures > 0).then(unix_micros);
        for i in from..to {
            let (frame, truncated) = self.batch.frame(i);
            let Some(slot) = self
                .ports
                .get_mut(in_port as usize)
                .and_then(Option::as_mut)
            else {
                return;
            };
            if truncated {
                slot.counters.rx_errors += 1;
                self.stats.oversize += 1;
                self.log.rate_limited(&format!(
                    "port {in_port} ({}): dropped a frame longer than --max-frame {}",
                    slot.name, self.args.max_frame
                ));
                continue;
            }
            if frame.len() < 14 {
                slot.counters.rx_errors += 1;
                self.stats.runts += 1;
                self.log.rate_limited(&format!(
                    "port {in_port} ({}): dropped a {}-byte runt frame",
                    slot.name,
                    frame.len()
                ));
                continue;
            }
            slot.counters.rx_packets += 1;
            slot.counters.rx_bytes += frame.len() as u64;
            let (decision, learned) = self.forwarding.decide(frame, in_port, now_ms);
            self.stats.frames += 1;
            match learned {
                Learned::New => self.log.event(&format!(
                    " Addr: {} New port {in_port}",
                    fmt_mac(&frame[6..12])
                )),
                Learned::Moved { from } => self.log.event(&format!(
                    " Addr: {} New port {in_port} old port {from}",
                    fmt_mac(&frame[6..12])
                )),
                _ => {}
            }
            if let Some(t) = capture_time {
                capture_frame(
                    &mut self.conns,
                    &self.ports,
                    in_port,
                    Direction::Inbound,
                    t,
                    frame,
                );
            }
            match decision {
                Decision::Flood => {
                    self.stats.flooded += 1;
                    for p in 1..max_ports {
                        if p as u32 != in_port && self.ports[p].is_some() {
                            self.out.push(p as u32, i);
                        }
                    }
                }
                Decision::Unicast(p) => {
                    self.stats.unicast += 1;
                    self.out.push(p, i);
                    for &d in &self.dump_ports {
                        if d != in_port {
                            self.out.push(d, i);
                        }
                    }
                }
                Decision::Filter => {
                    self.stats.filtered += 1;
                    for &d in &self.dump_ports {
                        if d != in_port {
                            self.out.push(d, i);
                        }
                    }
                }
            }
        }
        self.transmit(capture_time);
    }

    /// Sends every output list built for the current batch.
    pub(super) fn transmit(&mut self, capture_time: Option<u64>) {
        let touched = std::mem::take(&mut self.out.touched);
        for &p in &touched {
            let list = std::mem::take(&mut self.out.lists[p as usize]);
            self.send_to_port(p, &list, capture_time);
            let mut list = list;
            list.clear();
            self.out.lists[p as usize] = list;
        }
        let mut touched = touched;
        touched.clear();
        self.out.touched = touched;
    }

    pub(super) fn send_to_port(&mut self, p: u32, indices: &[u8], capture_time: Option<u64>) {
        if !self.port_exists(p) {
            return;
        }
        // The batch moves out while its frames are sent (a move, no allocation).
        let batch = std::mem::replace(&mut self.batch, RxBatch::empty());
        let mut refs: [&[u8]; BATCH] = [&[]; BATCH];
        for (r, &i) in refs.iter_mut().zip(indices) {
            *r = batch.frame(i as usize).0;
        }
        self.send_frames(p, &refs[..indices.len()], capture_time);
        self.batch = batch;
    }

    /// Sends `frames` (at most [`BATCH`]) to port `p` in one call, queueing what a full
    /// peer refuses.
    pub(super) fn send_frames(&mut self, p: u32, frames: &[&[u8]], capture_time: Option<u64>) {
        if let Some(t) = capture_time {
            for f in frames {
                capture_frame(&mut self.conns, &self.ports, p, Direction::Outbound, t, f);
            }
        }
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut start = 0;
        if slot.queue.is_empty() {
            let mut errors = 0;
            match slot.io.send_batch(frames, &mut errors) {
                Ok(sent) => {
                    start = sent;
                    let ok = sent as u64 - errors.min(sent as u64);
                    slot.counters.tx_packets += ok;
                    slot.counters.tx_bytes +=
                        frames[..sent].iter().map(|f| f.len() as u64).sum::<u64>();
                    slot.counters.tx_errors += errors;
                }
                Err(e) => {
                    slot.counters.tx_errors += frames.len() as u64;
                    start = frames.len();
                    let name = slot.name.clone();
                    self.log
                        .rate_limited(&format!("port {p} ({name}): send failed: {e}"));
                }
            }
        }
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        for f in &frames[start..] {
            if !slot.queue.push(f) {
                slot.counters.tx_drops += 1;
            }
        }
        if !slot.queue.is_empty() && !slot.want_out && slot.registered {
            slot.want_out = true;
            let fd = slot.io.fd();
            self.epoll_mod(
                fd,
                TOKEN_PORT | p as u64,
                (libc::EPOLLIN | libc::EPOLLOUT) as u32,
            );
        }
    }

    pub(super) fn flush_queue(&mut self, p: u32) {
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut errors = 0;
        let before = slot.queue.len();
        let bytes_before = slot.queue.bytes();
        match slot.queue.flush(slot.io.as_mut(), &mut errors) {
            Ok(sent) => {
                slot.counters.tx_packets += sent as u64 - errors.min(sent as u64);
                slot.counters.tx_bytes += (bytes_before - slot.queue.bytes()) as u64;
                slot.counters.tx_errors += errors;
            }
            Err(e) => {
                slot.counters.tx_errors += before as u64;
                slot.queue.clear();
                let name = slot.name.clone();
                self.log
                    .rate_limited(&format!("port {p} ({name}): send failed: {e}"));
            }
        }
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        if slot.queue.is_empty() && slot.want_out {
            slot.want_out = false;
            let fd = slot.io.fd();
            self.epoll_mod(fd, TOKEN_PORT | p as u64, libc::EPOLLIN as u32);
        }
    }

    // ----- control connections -----------------------------------------------------
}

pub(super) fn capture_frame(
    conns: &mut [Option<Conn>],
    ports: &[Option<PortSlot>],
    port: u32,
    dir: Direction,
    micros: u64,
    frame: &[u8],
) {
    for conn in conns.iter_mut().flatten() {
        if let ConnState::Capture { writer, filter } = &mut conn.state {
            let wanted = match filter {
                CaptureFilter::All => dir == Direction::Inbound,
                CaptureFilter::Port(p) => *p == port,
            };
            if wanted {
                let name = ports
                    .get(port as usize)
                    .and_then(Option::as_ref)
                    .map_or("", |s| s.name.as_str());
                writer.frame(port, name, dir, micros, frame);
            }
        }
    }
}

pub(super) fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
