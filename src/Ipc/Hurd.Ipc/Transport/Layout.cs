namespace Hurd.Ipc.Transport;

/// <summary>
/// The layout of a connection's shared memory (one memfd, mapped by both processes).
/// Side 0 is the process that accepted the connection, side 1 the one that connected.
/// <code>
/// 0x0000  control page: u64 magic, u32 version; per side s at 64+64*s: i32 pid, i32 alive, i32 running (cpu+1 running, -(cpu+1) asleep), u64 merge nonce at +16
/// 0x1000  ring header of side 0's outgoing ring (head word at +0, tail word at +64)
/// 0x2000  ring header of side 1's outgoing ring
/// 0x3000  side 0's call slots: 64 x 64-byte lines, reply word at +0 of line i
/// 0x4000  side 1's call slots
/// 0x10000 ring data, side 0 then side 1 (RingBytes each)
/// then    call areas: for side s, slot i: request area, reply area (AreaBytes each)
/// </code>
/// Head and tail words hold a byte position modulo 2^31 in bits 0..30 and a WAIT bit (bit 31):
/// in the head word it means "the consumer sleeps, ring its doorbell"; in the tail word,
/// "the producer sleeps waiting for room, FUTEX_WAKE it". A reply word is 0 while the call is
/// pending, 1 once replied, with the same WAIT bit meaning "the caller sleeps on this word".
/// </summary>
internal static class Layout
{
    public const ulong Magic = 0x31_43_50_49_44_52_55_48; // "HURDIPC1"
    public const int Version = 3; // 2: the connecting side speaks first (Attach: new or merge); 3: 4 MiB rings
    public const int Page = 4096;
    /// <summary>Ring data per direction. Large enough that a producer can run on for a few milliseconds while the
    /// consumer is off its CPU (a time slice on a loaded machine), so the two need not run at the same time.</summary>
    public const int RingBytes = 4 << 20;
    public const int RingMask = RingBytes - 1;
    /// <summary>A producer that finds the ring empty after this many bytes starts again at its start (see
    /// Connection.Reserve): calls and short bursts stay within the first RewindStep bytes.</summary>
    public const int RewindStep = 64 << 10;
    public const int PosMask = 0x7FFF_FFFF;
    public const int WaitBit = unchecked((int)0x8000_0000);
    public const int SlotCount = 64;
    public const int AreaBytes = (1 << 20) + (64 << 10);
    /// <summary>Most right descriptors in one message.</summary>
    public const int MaxRights = 64;
    /// <summary>Largest body a message may carry (a call's area minus header and rights).</summary>
    public const int MaxBody = AreaBytes - 32 - MaxRights * 8;
    /// <summary>One-way messages up to this size (header, body, rights) travel inside the ring.</summary>
    public const int InlineMax = 64 << 10;

    public const int SideInfo = 64;
    public static int SideInfoOffset(int side) => SideInfo + side * 64;
    public static int RingHeader(int side) => Page * (1 + side);
    public static int SlotControl(int side) => Page * (3 + side);
    public const int RingDataBase = 0x10000;
    public static long RingData(int side) => RingDataBase + (long)side * RingBytes;
    public const long AreasBase = RingDataBase + 2L * RingBytes;
    public static long RequestArea(int side, int slot) => AreasBase + ((long)(side * SlotCount + slot) * 2) * AreaBytes;
    public static long ReplyArea(int side, int slot) => RequestArea(side, slot) + AreaBytes;
    public static long TotalBytes => AreasBase + 2L * SlotCount * 2 * AreaBytes;

    // Ring records: u32 length (multiple of 8, includes this 8-byte header), u16 kind, u16 aux.
    public const int RecPad = 1;        // skip to the ring's start
    public const int RecCall = 2;       // u32 slot, u32 0, u64 seq: a call (or a large one-way message) in a call slot
    public const int RecMessage = 3;    // an inline one-way message: MessageHeader, body, rights
    public const int RecInterrupt = 4;  // u32 slot, u32 0, u64 seq: interrupt_operation for that call
    public const int RecRelease = 5;    // u32 handle, u32 count: the sender dropped that many grants of the receiver's handle
    public const int RecDead = 6;       // u32 handle: the sender destroyed the port it granted under handle
}

/// <summary>How a right is named on the wire (the Reserved0 byte of a wire RightDescriptor).</summary>
internal enum WireKind : byte
{
    /// <summary>A port of the message's sender: Name is a handle in the sender's grant table of this connection.</summary>
    SendersPort = 1,
    /// <summary>A port of the message's receiver: Name is a handle the receiver granted on this connection.</summary>
    ReceiversPort = 2,
    /// <summary>A dead name.</summary>
    Dead = 3,
    /// <summary>A port of a third process: Name is the tag of a ticket (a socket standing for one send right, minted by
    /// the port's owner) that the sender passed by SCM_RIGHTS on this connection's socket just before the message.</summary>
    ThirdParty = 4,
}
