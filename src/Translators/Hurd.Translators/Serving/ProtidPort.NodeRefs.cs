using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;

namespace Hurd.Translators.Serving;

/// <summary>
/// The fs_ext node references (<see cref="IFsExt.noderef_lookup"/> and the rest) of one protid port: numbers naming
/// nodes for whoever holds this port. Each reference is a <see cref="Protid"/> with this port's identity on a peropen with
/// no open modes, which is what a port made by dir_lookup would carry, minus the port: making one is a table insert and
/// dropping one a table remove, where a port costs a receive right, a send right and a no-senders notification on the
/// thread pool. They die with the port (<see cref="ReleaseNodeRefs"/> from its destruction) or one by one.
/// </summary>
internal sealed partial class ProtidPort
{
    private readonly Lock _refsLock = new();
    private Dictionary<ulong, Protid>? _refs;
    private ulong _nextRef;

    /// <summary>Node references alive on this port (for tests).</summary>
    internal int NodeRefCount { get { lock (_refsLock) return _refs?.Count ?? 0; } }

    /// <summary>The protid that reference <paramref name="r"/> names (0: this port's own), or null; for a reference, its
    /// peropen carries one more reference for the call (<see cref="Done"/> drops it), so a concurrent
    /// <see cref="noderef_release"/> cannot close it under the call.</summary>
    private Protid? RefProtid(ulong r)
    {
        if (r == 0) return Protid;
        lock (_refsLock)
        {
            if (_refs is null || !_refs.TryGetValue(r, out var p)) return null;
            p.File.AddRef();
            return p;
        }
    }

    /// <summary>Ends a call on what <see cref="RefProtid"/> gave for <paramref name="r"/>.</summary>
    private static void Done(ulong r, Protid p)
    {
        if (r != 0) p.File.Release();
    }

    /// <summary>Enters <paramref name="p"/> (whose reference the table takes over) and returns its number; 0 (and
    /// <paramref name="p"/> released) when the port is already destroyed.</summary>
    private ulong AddRef(Protid p)
    {
        lock (_refsLock)
        {
            if (Volatile.Read(ref Destroyed) == 0)
            {
                ulong r = ++_nextRef;
                (_refs ??= new()).Add(r, p);
                fs.CountNodeRefs(1);
                return r;
            }
        }
        p.Release();
        return 0;
    }

    /// <summary>A new reference to <paramref name="node"/> with this port's identity, and its io_stat.</summary>
    private Errno NewRef(Node node, out ulong r, out Stat st)
    {
        r = 0;
        st = default;
        var e = Calls.Open(User, node, OpenFlags.None, false, out var p);
        if (e != Errno.OK) return e;
        e = Calls.IoStat(p!, out st);
        if (e != Errno.OK) { p!.Release(); return e; }
        r = AddRef(p!);
        return r == 0 ? Errno.EBADF : Errno.OK;
    }

    /// <summary>Drops every node reference (the port is being destroyed).</summary>
    internal void ReleaseNodeRefs()
    {
        Dictionary<ulong, Protid>? all;
        lock (_refsLock) { all = _refs; _refs = null; }
        if (all is null) return;
        fs.CountNodeRefs(-all.Count);
        foreach (var p in all.Values) p.Release();
    }

    public Errno noderef_lookup(ulong dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        out bool retry, out ulong node, out Stat st, out PortName opened)
    {
        retry = false;
        node = 0;
        st = default;
        opened = PortName.Null;
        if (fs.IsGoingAway) return Errno.EBUSY;
        var start = RefProtid(dir);
        if (start is null) return Errno.ESTALE;
        try { return Lookup(start, name, flags, mode, open, out retry, out node, out st, out opened); }
        finally { Done(dir, start); }
    }

    private Errno Lookup(Protid start, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        out bool retry, out ulong node, out Stat st, out PortName opened)
    {
        retry = false;
        node = 0;
        st = default;
        opened = PortName.Null;
        var e = Calls.DirLookup(start, fs.Root, name, flags, mode, out var lr);
        if (e != Errno.OK) return e;
        if (!lr.IsDone) { retry = true; return Errno.OK; }
        Protid? o = null;
        if (open)
        {
            // First the open with the modes asked for (it truncates, and a file this lookup made is not checked), so
            // the stat below shows the file as the client will see it.
            e = Calls.Open(User, lr.Node!, flags, lr.Created, out o);
            if (e != Errno.OK) return e;
        }
        e = NewRef(lr.Node!, out node, out st);
        if (e != Errno.OK) { o?.Release(); return e; }
        if (o is not null) opened = fs.MakePort(o);
        return Errno.OK;
    }

    public Errno noderef_mkdir(ulong dir, ReadOnlySpan<byte> name, FileMode mode, out ulong node, out Stat st)
    {
        node = 0;
        st = default;
        var start = RefProtid(dir);
        if (start is null) return Errno.ESTALE;
        try
        {
            var e = Calls.DirMkdir(start, name, mode, out var made);
            if (e != Errno.OK) return e;
            return NewRef(made!, out node, out st);
        }
        finally { Done(dir, start); }
    }

    public Errno noderef_unlink(ulong dir, ReadOnlySpan<byte> name, bool directory)
    {
        var start = RefProtid(dir);
        if (start is null) return Errno.ESTALE;
        try { return directory ? Calls.DirRmdir(start, name) : Calls.DirUnlink(start, name); }
        finally { Done(dir, start); }
    }

    public Errno noderef_stat(ulong node, out Stat st)
    {
        st = default;
        var p = RefProtid(node);
        if (p is null) return Errno.ESTALE;
        try { return Calls.IoStat(p, out st); }
        finally { Done(node, p); }
    }

    public Errno noderef_open(ulong node, OpenFlags flags, out PortName port)
    {
        port = PortName.Null;
        if (fs.IsGoingAway) return Errno.EBUSY;
        var p = RefProtid(node);
        if (p is null) return Errno.ESTALE;
        Errno e;
        Protid? o;
        try
        {
            // As dir_lookup of "" with these flags (Calls.DirLookup's last check).
            if ((flags & OpenFlags.Directory) != 0 && p.Node is not IDirectory) { e = Errno.ENOTDIR; o = null; }
            else e = Calls.Open(User, p.Node, flags, false, out o);
        }
        finally { Done(node, p); }
        if (e != Errno.OK) return e;
        port = fs.MakePort(o!);
        return Errno.OK;
    }

    public Errno noderef_stat_many(ReadOnlySpan<byte> nodes, Span<byte> stats, out int statsCount)
    {
        statsCount = 0;
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<Stat>();
        int n = nodes.Length / sizeof(ulong);
        if (nodes.Length % sizeof(ulong) != 0) return Errno.EINVAL;
        if ((long)n * size > stats.Length) return Errno.EMSGSIZE;
        for (int i = 0; i < n; i++)
        {
            ulong r = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(nodes[(i * sizeof(ulong))..]);
            Stat st = default;
            var p = RefProtid(r);
            if (p is not null)
            {
                try { if (Calls.IoStat(p, out st) != Errno.OK) st = default; }
                finally { Done(r, p); }
            }
            System.Runtime.InteropServices.MemoryMarshal.Write(stats[(i * size)..], in st);
        }
        statsCount = n * size;
        return Errno.OK;
    }

    public Errno noderef_get_xattr(ulong node, ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length)
    {
        valueCount = 0;
        length = 0;
        var p = RefProtid(node);
        if (p is null) return Errno.ESTALE;
        try { return GetXattr(p, name, size, value, out valueCount, out length); }
        finally { Done(node, p); }
    }

    public Errno noderef_check_access(ulong node, out OpenFlags allowed)
    {
        allowed = OpenFlags.None;
        var p = RefProtid(node);
        if (p is null) return Errno.ESTALE;
        try { return CheckAccess(p, out allowed); }
        finally { Done(node, p); }
    }

    public Errno noderef_release(ulong node)
    {
        Protid? p = null;
        lock (_refsLock)
        {
            if (_refs is null || !_refs.Remove(node, out p)) return Errno.ESTALE;
        }
        fs.CountNodeRefs(-1);
        fs.ReleaseLater(p);
        return Errno.OK;
    }
}
