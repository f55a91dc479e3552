using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;

namespace Hurd.Ipc.Rpc;

/// <summary>The OS credentials of a peer process, as the Linux kernel attests them (SO_PEERCRED).</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    /// <summary>The calling process itself (in-process transport).</summary>
    public static PeerCredentials Self => new(Environment.ProcessId, Interop.Self.Uid, Interop.Self.Gid);
}

/// <summary>
/// The server-side context of one request: who sent it (kernel-attested), which port it
/// came to, its cancellation (set when the client sends interrupt_operation or dies), and
/// the way to answer later from another thread.
/// </summary>
public abstract class CallContext
{
    [ThreadStatic] private static CallContext? t_current;

    /// <summary>The context of the request the current thread is dispatching, or null.</summary>
    public static CallContext? Current { get => t_current; set => t_current = value; }

    /// <summary>The sending process's credentials, as the kernel reported them for its connection.</summary>
    public abstract PeerCredentials Sender { get; }
    /// <summary>The port the request was sent to (a name in the server's space).</summary>
    public abstract PortName Port { get; }
    /// <summary>The object registered on <see cref="Port"/> (what libports' intran gives).</summary>
    public abstract object? Target { get; }
    /// <summary>Cancelled when the client interrupts the call (interrupt_operation), abandons it, or dies.</summary>
    public abstract CancellationToken Cancellation { get; }

    /// <summary>
    /// Takes the reply's send-once right out of this request so the server can answer later,
    /// from any thread, with the generated <c>FooServer.Reply_routine(deferred, ...)</c>.
    /// The routine must then return <see cref="Errno.MIG_NO_REPLY"/>.
    /// Returns null for a one-way message.
    /// </summary>
    public abstract DeferredReply? DeferReply();
}

/// <summary>
/// A reply that will be sent later (the saved send-once right of MIG_NO_REPLY).
/// Exactly one of <see cref="Send"/> or <see cref="Dispose"/> should be called;
/// disposing without sending answers the caller with EDIED-like <see cref="Errno.ECANCELED"/>.
/// </summary>
public abstract class DeferredReply : IDisposable
{
    /// <summary>The routine id the reply answers (request id; the reply's id is +100).</summary>
    public abstract uint RequestId { get; }
    /// <summary>True once the caller can no longer receive the reply (it gave up, was interrupted, or died).</summary>
    public abstract bool IsAbandoned { get; }
    /// <summary>A writer for the reply body; generated Reply_ helpers write the code then the outs.</summary>
    public abstract MessageWriter BeginReply();
    /// <summary>Sends the body written into the writer from <see cref="BeginReply"/>.</summary>
    public abstract Errno Send(ref MessageWriter body);
    public abstract void Dispose();
}
