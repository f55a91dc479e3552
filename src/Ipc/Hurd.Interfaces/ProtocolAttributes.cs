using Hurd.Ipc.Ports;

namespace Hurd.Interfaces;

/// <summary>
/// The disposition a <see cref="PortName"/> parameter of a protocol routine travels with
/// (MIG's <c>mach_port_copy_send_t</c>, <c>mach_port_make_send_t</c>, ...). Without it an in
/// port is <see cref="Disposition.CopySend"/> (the caller keeps its right) and an out port is
/// <see cref="Disposition.MakeSend"/> (the server mints a send right from a receive right it holds).
/// When the disposition is only known at run time, use <see cref="PortRight"/> instead.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class RightAttribute(Disposition disposition) : Attribute
{
    /// <summary>How the right moves.</summary>
    public Disposition Disposition { get; } = disposition;
}

/// <summary>
/// The largest out byte array (<c>Span&lt;byte&gt;</c>) a server may return for this parameter:
/// the dispatch reserves at most this many bytes in the reply (less if the reply buffer is
/// smaller). Without it the server gets all the room left in the reply.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class MaxLengthAttribute(int length) : Attribute
{
    /// <summary>The limit in bytes.</summary>
    public int Length { get; } = length;
}

/// <summary>
/// A byte array that, when client and server are in one process, stays in the caller's memory (the in-process
/// transport lends it to the dispatch) instead of being copied through the message.
/// <list type="bullet">
/// <item>An out array (<c>Span&lt;byte&gt;</c>): the server writes straight into the caller's buffer, the data is written
/// once, where the caller wants it. The server then gets at most the caller's buffer (a short result, never ERANGE), so
/// use it where the caller's buffer bounds the answer anyway (io_read's <c>amount</c>). Honoured on a routine with exactly
/// one out array.</item>
/// <item>An in array (<c>ReadOnlySpan&lt;byte&gt;</c>): the server reads the caller's bytes where they are (io_write's
/// data). Honoured on the routine's first such array; the server must serve the same protocol at that id.</item>
/// </list>
/// Across processes nothing changes: the array travels in the message.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class CallerBufferAttribute : Attribute;

/// <summary>
/// A port with the disposition it travels with, chosen at run time: MIG's polymorphic
/// <c>mach_port_send_t</c>. A server returns <see cref="Disposition.MakeSend"/> for a port it
/// serves and <see cref="Disposition.MoveSend"/>/<see cref="Disposition.CopySend"/> for a send right
/// it holds (dir_lookup handing out a translator's root). A receiver sees how the right was sent.
/// </summary>
/// <param name="Name">The port (a name in the sender's space when sending, in the receiver's after).</param>
/// <param name="Disposition">How the right moves.</param>
public readonly record struct PortRight(PortName Name, Disposition Disposition)
{
    /// <summary>No port (MACH_PORT_NULL).</summary>
    public static readonly PortRight Null = default;
    /// <summary>True when no port is carried.</summary>
    public bool IsNull => Name.IsNull;
    /// <summary>A send right made from the receive right <paramref name="name"/> (a port the sender serves).</summary>
    public static PortRight MakeSend(PortName name) => new(name, Disposition.MakeSend);
    /// <summary>A copy of the send right <paramref name="name"/>; the sender keeps its own.</summary>
    public static PortRight CopySend(PortName name) => new(name, Disposition.CopySend);
    /// <summary>The send right <paramref name="name"/> itself; the sender loses it.</summary>
    public static PortRight MoveSend(PortName name) => new(name, Disposition.MoveSend);
}
