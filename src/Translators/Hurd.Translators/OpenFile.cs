using System.Runtime.CompilerServices;
using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>
/// Per-open state, the Hurd's peropen: the node, the file pointer and the open modes.
/// One is made by each successful open (dir_lookup); <c>io_duplicate</c> and <c>dup</c>
/// share it (new <see cref="Protid"/>s on the same OpenFile), so they share the offset.
/// </summary>
/// <remarks>
/// Reference counted by its protids: <see cref="Protid.Release"/> of the last one closes it,
/// which calls <see cref="ICloseHook.Close"/> on the node. A file whose last link is removed
/// stays usable until its last OpenFile closes.
/// </remarks>
public sealed class OpenFile
{
    int refs = 1;
    long offset;
    OpenFlags flags;

    /// <summary>The value of an offset argument that means "use and advance the file pointer" (io_read/io_write offset -1).</summary>
    public const long FilePointer = -1;

    /// <summary>An OpenFile on <paramref name="node"/> with one reference, opened with <paramref name="flags"/>.
    /// Only the flags that persist are kept (access, O_APPEND, O_NONBLOCK, O_SYNC, O_NOATIME).</summary>
    public OpenFile(Node node, OpenFlags flags)
    {
        Node = node;
        this.flags = flags & Persistent;
        node.AddOpen();
    }

    OpenFile(Node node) { Node = node; refs = 0; }

    /// <summary>An OpenFile that is not an open of the node (no reference, not counted in <see cref="Node.OpenCount"/>):
    /// the SDK uses it to pass a <see cref="Protid"/> to <see cref="IStatable.Stat"/> before the real open exists.</summary>
    internal static OpenFile Detached(Node node) => new(node);

    const OpenFlags Persistent = OpenFlags.AccessMask | OpenFlags.Append | OpenFlags.NonBlock | OpenFlags.Sync | OpenFlags.NoAtime;
    const OpenFlags Settable = OpenFlags.Append | OpenFlags.NonBlock | OpenFlags.Sync | OpenFlags.NoAtime;

    /// <summary>The node this open refers to.</summary>
    public Node Node { get; }

    /// <summary>The open modes (io_get_openmodes): O_READ/O_WRITE/O_EXEC plus O_APPEND, O_NONBLOCK, O_SYNC, O_NOATIME.</summary>
    public OpenFlags Flags => (OpenFlags)Volatile.Read(ref Unsafe.As<OpenFlags, uint>(ref flags));

    /// <summary>The file pointer, shared by every protid on this OpenFile.</summary>
    public long Offset { get => Interlocked.Read(ref offset); set => Interlocked.Exchange(ref offset, value); }

    /// <summary>Serialises read/write/seek calls that use the file pointer (the SDK takes it).</summary>
    public Lock Lock { get; } = new();

    /// <summary>True after the last reference was released.</summary>
    public bool IsClosed => Volatile.Read(ref refs) <= 0;

    /// <summary>True when opened for reading.</summary>
    public bool CanRead => (Flags & OpenFlags.Read) != 0;
    /// <summary>True when opened for writing.</summary>
    public bool CanWrite => (Flags & OpenFlags.Write) != 0;

    /// <summary>io_set_all_openmodes: replaces the changeable status flags (O_APPEND, O_NONBLOCK, O_SYNC, O_NOATIME); the access modes stay.</summary>
    public void SetStatusFlags(OpenFlags f)
    {
        OpenFlags old, nf;
        do { old = flags; nf = (old & ~Settable) | (f & Settable); }
        while (Interlocked.CompareExchange(ref Unsafe.As<OpenFlags, uint>(ref flags), (uint)nf, (uint)old) != (uint)old);
    }

    internal void AddRef()
    {
        if (Interlocked.Increment(ref refs) <= 1) throw new ObjectDisposedException(nameof(OpenFile));
    }

    /// <summary>Adds a reference unless the last one is already gone (then false: the open is closed or closing).</summary>
    internal bool TryAddRef()
    {
        int r = Volatile.Read(ref refs);
        while (r > 0)
        {
            int seen = Interlocked.CompareExchange(ref refs, r + 1, r);
            if (seen == r) return true;
            r = seen;
        }
        return false;
    }

    internal void Release()
    {
        int n = Interlocked.Decrement(ref refs);
        if (n != 0) return;
        Node.RemoveOpen();
        if (Node.AsCloseHook is { } h) h.Close(this);
    }
}
