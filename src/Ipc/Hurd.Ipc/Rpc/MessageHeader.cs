using System.Runtime.InteropServices;
using Hurd.Ipc.Ports;

namespace Hurd.Ipc.Rpc;

/// <summary>Bits of <see cref="MessageHeader.Flags"/>.</summary>
[Flags]
public enum MessageFlags : uint
{
    None = 0,
    /// <summary>The message carries right descriptors after its body.</summary>
    Complex = 1,
    /// <summary>The body lives in the connection's bulk region (see docs/architecture.md), not inline.</summary>
    Bulk = 2,
    /// <summary>This is a reply: the body starts with the Errno return code.</summary>
    Reply = 4,
    /// <summary>An interrupt_operation for the call with the same <see cref="MessageHeader.Seq"/>.</summary>
    Interrupt = 8,
    /// <summary>The message goes through a send-once right to <see cref="MessageHeader.Dest"/>: it consumes that right
    /// (the receiver drops the grant the right stood for).</summary>
    SendOnce = 16,
}

/// <summary>
/// The fixed 32-byte header that starts every message, on every transport. All fields are
/// little-endian. Layout (offsets in bytes):
/// <code>
///  0 u32 Size       header + body + right descriptors, a multiple of 8
///  4 u32 Id         routine id (subsystem base + index); a reply's id is the request's + 100
///  8 u32 Flags      MessageFlags
/// 12 u32 Dest       the destination port (a name in the sender's space; the core rewrites it)
/// 16 u32 ReplyPort  send-once right for the reply, 0 for a one-way message
/// 20 u16 RightCount number of 8-byte RightDescriptors after the body
/// 22 u16 BodySize8  body size in units of 8 bytes (the body starts at offset 32)
/// 24 u64 Seq        call number chosen by the caller; echoed in the reply, named by interrupts
/// </code>
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
public struct MessageHeader
{
    public const int Length = 32;
    /// <summary>A reply's id is the request's plus this (MIG's convention).</summary>
    public const uint ReplyIdOffset = 100;

    public uint Size;
    public uint Id;
    public MessageFlags Flags;
    public uint Dest;
    public uint ReplyPort;
    public ushort RightCount;
    public ushort BodySize8;
    public ulong Seq;

    public readonly int BodySize => BodySize8 * 8;

    /// <summary><see cref="BodySize8"/> value meaning "the body is 512 KiB or more": its length is then
    /// <see cref="Size"/> - 32 - 8 x <see cref="RightCount"/> (such a message also has <see cref="MessageFlags.Bulk"/>).</summary>
    public const ushort LargeBody = ushort.MaxValue;

    /// <summary>The body length in bytes, for any size (see <see cref="LargeBody"/>); -1 if the fields disagree.</summary>
    public readonly int BodyLength
    {
        get
        {
            if (BodySize8 != LargeBody) return BodySize;
            long n = (long)Size - Length - RightCount * 8L;
            return n >= LargeBody * 8L && n <= int.MaxValue && (n & 7) == 0 ? (int)n : -1;
        }
    }

    /// <summary>The <see cref="BodySize8"/> value for a body of <paramref name="paddedLength"/> bytes.</summary>
    public static ushort EncodeBodySize(int paddedLength) => paddedLength / 8 >= LargeBody ? LargeBody : (ushort)(paddedLength / 8);
}

/// <summary>
/// One right carried by a message: 8 bytes after the body. The body refers to it by its
/// index. In the sender's buffer <see cref="Name"/> is the sender's local name; the core
/// rewrites it on the way, so the receiver sees a name in its own space.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
public struct RightDescriptor
{
    public uint Name;
    public Disposition Disposition;
    public byte Reserved0;
    public ushort Reserved1;

    public RightDescriptor(PortName name, Disposition d) { Name = name.Value; Disposition = d; Reserved0 = 0; Reserved1 = 0; }
}
