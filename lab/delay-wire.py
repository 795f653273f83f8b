#!/usr/bin/env python3
"""Delay wire of the NAT lab, for kernels without tc netem (CONFIG_NET_SCH_NETEM).

Joins pairs of interfaces inside one namespace at layer 2 with AF_PACKET sockets: every frame that
arrives on IN is sent out of OUT after DELAY milliseconds; frames arriving on OUT go back out of IN
at once. The lab puts one wire on each internet link, so each node's egress to the internet is
delayed, as netem on that interface would do.

    python3 delay-wire.py DELAY_MS IN:OUT [IN:OUT ...]
    stdout: {"event":"ready"} once every socket is bound

Frames that the sending stack left with a partial checksum (veth checksum offload) are completed
here, since a frame re-sent through a packet socket is checked by the receiver as it stands. The lab
caps GSO on these links (gso_max_segs 1), so no frame is larger than the MTU.
"""
import heapq
import json
import selectors
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_CSUMNOTREADY = 1 << 3
AUXDATA = struct.Struct('IIIHHHH')
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
BUFFER_BYTES = 16 * 1024 * 1024


def internet_checksum(data: bytes) -> int:
    """RFC 1071 checksum. 2**16 = 1 (mod 0xFFFF), so the one's-complement sum of the 16-bit words is
    the whole big-endian number modulo 0xFFFF (with 0xFFFF, "negative zero", for a non-zero
    multiple); one big-integer remainder is much faster in Python than summing the words."""
    if len(data) % 2:
        data += b'\0'
    number = int.from_bytes(data, 'big')
    total = number % 0xFFFF
    if total == 0 and number != 0:
        total = 0xFFFF
    return ~total & 0xFFFF


def complete_checksum(frame: bytes, net: int) -> bytes:
    """Fill in the TCP/UDP/ICMPv6 checksum of a frame whose checksum the sender left to hardware."""
    ether_type = struct.unpack_from('!H', frame, 12)[0]
    if ether_type == 0x0800:
        ihl = (frame[net] & 0x0F) * 4
        proto = frame[net + 9]
        start = net + ihl
        end = net + struct.unpack_from('!H', frame, net + 2)[0]
        pseudo = frame[net + 12 : net + 20] + struct.pack('!BBH', 0, proto, end - start)
    elif ether_type == 0x86DD:
        proto = frame[net + 6]
        start = net + 40
        end = start + struct.unpack_from('!H', frame, net + 4)[0]
        pseudo = frame[net + 8 : net + 40] + struct.pack('!I3xB', end - start, proto)
    else:
        return frame
    offset = {6: 16, 17: 6, 58: 2}.get(proto)
    if offset is None:
        return frame
    buf = bytearray(frame)
    buf[start + offset : start + offset + 2] = b'\0\0'
    value = internet_checksum(pseudo + bytes(buf[start:end]))
    if proto == 17 and value == 0:
        value = 0xFFFF
    struct.pack_into('!H', buf, start + offset, value)
    return bytes(buf)


def open_interface(name: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    # A burst of a fast sender must wait in the socket, not be dropped (it would look like loss).
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUFFER_BYTES)
    sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, BUFFER_BYTES)
    sock.bind((name, 0))
    sock.setblocking(False)
    return sock


def main() -> None:
    delay = int(sys.argv[1]) / 1000.0
    selector = selectors.DefaultSelector()
    for pair in sys.argv[2:]:
        inbound, outbound = pair.split(':')
        a, b = open_interface(inbound), open_interface(outbound)
        selector.register(a, selectors.EVENT_READ, (b, delay))
        selector.register(b, selectors.EVENT_READ, (a, 0.0))
    print(json.dumps({'event': 'ready'}), flush=True)
    queue: list = []
    seq = 0
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                out.send(frame)
            except OSError:
                pass  # a frame the link refuses is lost, as on a wire
        timeout = None if not queue else max(0.0, queue[0][0] - now)
        for key, _ in selector.select(timeout):
            sock = key.fileobj
            out, wait = key.data
            for _ in range(256):
                try:
                    frame, ancillary, _, address = sock.recvmsg(65536, socket.CMSG_SPACE(AUXDATA.size))
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue
                for level, kind, data in ancillary:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= AUXDATA.size:
                        status, _, _, _, net, _, _ = AUXDATA.unpack_from(data)
                        if status & TP_STATUS_CSUMNOTREADY:
                            frame = complete_checksum(frame, net)
                if wait > 0:
                    seq += 1
                    heapq.heappush(queue, (time.monotonic() + wait, seq, out, frame))
                else:
                    try:
                        out.send(frame)
                    except OSError:
                        pass


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
