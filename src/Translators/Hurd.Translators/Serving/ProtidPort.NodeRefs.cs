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
    // The table: a reference number is (a sequence number << 32) | its slot, so a call finds its entry by index, with
    // no lock and no hash lookup, and checks the whole number against the entry's (a released number never names the
    // slot's next entry; the sequence would have to come round 2^32 times while a client held the old number). Writers
    // (make, release, grow, destroy) serialise on _refsLock; readers read the slot array and the entry once each.
    // A slot holds the reference's protid, which carries its number (Protid.RefNumber, set before it is published).
    private readonly Lock _refsLock = new();
    private Protid?[]? _slots;
    private int[]? _freeSlots;
    private int _freeCount, _usedSlots, _refCount;
    private uint _nextSeq;

    /// <summary>Node references alive on this port (for tests).</summary>
    internal int NodeRefCount { get { lock (_refsLock) return _refCount; } }

    /// <summary>The protid that reference <paramref name="r"/> names (0: this port's own), or null; for a reference, its
    /// peropen carries one more reference for the call (<see cref="Done"/> drops it), so a concurrent
    /// <see cref="noderef_release"/> cannot close it under the call. A call that races a release may still get the
    /// protid (its peropen is closed a little later): as if it had started just before the release.</summary>
    private Protid? RefProtid(ulong r)
    {
        if (r == 0) return Protid;
        var slots = Volatile.Read(ref _slots);
        uint i = (uint)r;
        if (slots is null || i >= (uint)slots.Length) return null;
        var p = Volatile.Read(ref slots[i]);
        if (p is null || p.RefNumber != r || !p.File.TryAddRef()) return null;
        return p;
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
                int slot;
                if (_freeCount > 0) slot = _freeSlots![--_freeCount];
                else
                {
                    var slots = _slots ?? new Protid?[16];
                    if (_usedSlots == slots.Length)
                    {
                        // Readers may still look at the old array: an entry removed from the new one after the copy is
                        // still in it, which RefProtid treats as a call racing the release (above).
                        Array.Resize(ref slots, slots.Length * 2);
                    }
                    if (!ReferenceEquals(slots, _slots)) Volatile.Write(ref _slots, slots);
                    slot = _usedSlots++;
                }
                uint seq = ++_nextSeq;
                if (seq == 0) seq = ++_nextSeq; // never 0: the number is never 0 (the port's own node)
                ulong r = ((ulong)seq << 32) | (uint)slot;
                p.RefNumber = r;
                Volatile.Write(ref _slots![slot], p);
                var node = p.Node;
                Volatile.Write(ref node.RefSessionNumber, r);
                Volatile.Write(ref node.RefSession, this);
                _refCount++;
                fs.CountNodeRefs(1);
                return r;
            }
        }
        p.Release();
        return 0;
    }

    /// <summary>Takes reference <paramref name="r"/> out of the table (under <see cref="_refsLock"/>).</summary>
    private Protid? RemoveRef(ulong r)
    {
        var slots = _slots;
        uint i = (uint)r;
        if (slots is null || i >= (uint)_usedSlots || slots[i] is not { } p || p.RefNumber != r) return null;
        Volatile.Write(ref slots[i], null);
        _freeSlots ??= new int[16];
        if (_freeCount == _freeSlots.Length) Array.Resize(ref _freeSlots, _freeSlots.Length * 2);
        _freeSlots[_freeCount++] = (int)i;
        _refCount--;
        return p;
    }

    /// <summary>The reference this port has for <paramref name="node"/> (the last one made), or 0.</summary>
    private ulong KnownRef(Node node)
    {
        if (!ReferenceEquals(Volatile.Read(ref node.RefSession), this)) return 0;
        ulong r = Volatile.Read(ref node.RefSessionNumber);
        var slots = Volatile.Read(ref _slots);
        uint i = (uint)r;
        if (r == 0 || slots is null || i >= (uint)slots.Length) return 0;
        // The pair above may mix two ports' writes: the number must name this very node in this port's table.
        var p = Volatile.Read(ref slots[i]);
        return p is not null && p.RefNumber == r && ReferenceEquals(p.Node, node) ? r : 0;
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
        Protid?[]? all;
        int used;
        lock (_refsLock)
        {
            all = _slots; used = _usedSlots;
            // Later calls on a released number find no table (ESTALE); the slots are not cleared, so a call that read
            // the array just before still finds its entry, and its peropen's own count decides.
            Volatile.Write(ref _slots, null);
            _usedSlots = 0; _freeCount = 0; _refCount = 0;
        }
        if (all is null) return;
        int n = 0;
        for (int i = 0; i < used; i++)
        {
            if (all[i] is not { } p) continue;
            n++;
            p.Release();
        }
        fs.CountNodeRefs(-n);
    }

    public Errno noderef_lookup(ulong dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        out bool retry, out ulong node, out Stat st, out PortName opened) =>
        LookupFrom(dir, name, flags, mode, open, false, out retry, out node, out _, out st, out opened);

    public Errno noderef_lookup_known(ulong dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open,
        out bool retry, out ulong node, out bool known, out Stat st, out PortName opened) =>
        LookupFrom(dir, name, flags, mode, open, true, out retry, out node, out known, out st, out opened);

    /// <summary>Both lookups from reference <paramref name="dir"/>: <paramref name="shareKnown"/> answers a node the
    /// session already holds with that reference (noderef_lookup_known).</summary>
    private Errno LookupFrom(ulong dir, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open, bool shareKnown,
        out bool retry, out ulong node, out bool known, out Stat st, out PortName opened)
    {
        retry = false;
        node = 0;
        known = false;
        st = default;
        opened = PortName.Null;
        if (fs.IsGoingAway) return Errno.EBUSY;
        var start = RefProtid(dir);
        if (start is null) return Errno.ESTALE;
        try { return Lookup(start, name, flags, mode, open, shareKnown, out retry, out node, out known, out st, out opened); }
        finally { Done(dir, start); }
    }

    private Errno Lookup(Protid start, ReadOnlySpan<byte> name, OpenFlags flags, FileMode mode, bool open, bool shareKnown,
        out bool retry, out ulong node, out bool known, out Stat st, out PortName opened)
    {
        retry = false;
        node = 0;
        known = false;
        st = default;
        opened = PortName.Null;
        var e = Calls.DirLookup(start, fs.Root, name, flags, mode, out var lr);
        if (e != Errno.OK) return e;
        if (lr.Created) fs.Created(start, name);
        if (!lr.IsDone) { retry = true; return Errno.OK; }
        Protid? o = null;
        if (open)
        {
            // First the open with the modes asked for (it truncates, and a file this lookup made is not checked), so
            // the stat below shows the file as the client will see it.
            e = Calls.Open(User, lr.Node!, flags, lr.Created, out o);
            if (e != Errno.OK) return e;
        }
        if (shareKnown && KnownRef(lr.Node!) is var k and not 0 && RefProtid(k) is { } kp)
        {
            try { e = Calls.IoStat(kp, out st); }
            finally { Done(k, kp); }
            if (e != Errno.OK) { o?.Release(); return e; }
            node = k;
            known = true;
        }
        else
        {
            e = NewRef(lr.Node!, out node, out st);
            if (e != Errno.OK) { o?.Release(); return e; }
        }
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
            fs.NameChanged(start, name, DirChangedType.New);
            return NewRef(made!, out node, out st);
        }
        finally { Done(dir, start); }
    }

    public Errno noderef_unlink(ulong dir, ReadOnlySpan<byte> name, bool directory)
    {
        var start = RefProtid(dir);
        if (start is null) return Errno.ESTALE;
        try
        {
            var e = directory ? Calls.DirRmdir(start, name) : Calls.DirUnlink(start, name);
            if (e == Errno.OK) fs.NameChanged(start, name, DirChangedType.Unlink);
            return e;
        }
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
        Protid? p;
        lock (_refsLock) p = RemoveRef(node);
        if (p is null) return Errno.ESTALE;
        fs.CountNodeRefs(-1);
        fs.ReleaseLater(p);
        return Errno.OK;
    }
}
