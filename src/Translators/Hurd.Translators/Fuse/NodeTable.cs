using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Translators.Fuse;

/// <summary>
/// A send right shared by the bridge's tables and the requests using it: the right is deallocated when the owner
/// has dropped it (<see cref="Release"/> by the table) and no request still holds a lease (<see cref="TryAcquire"/>).
/// This keeps an eviction or a FORGET from pulling a port out from under a call in flight.
/// </summary>
/// <remarks>It is also the <see cref="IRpcTarget"/> of its own cached client proxies (<see cref="Fs"/>, <see cref="Io"/>),
/// made once, so a call allocates nothing: each call begun through it carries the calling thread's
/// <see cref="Cancellation"/> (the FUSE request's interrupt token), and the right's own timeout.</remarks>
internal sealed class PortRef : IRpcTarget
{
    [ThreadStatic] private static CancellationToken t_cancellation;

    private int _refs = 1;
    private FsClient? _fs;
    private IoClient? _io;
    private FsExtClient? _fsExt;

    public PortRef(SendRight right) { Right = right; }

    /// <summary>The right (valid while a reference is held).</summary>
    public SendRight Right { get; }

    /// <summary>The token calls begun on this thread carry (set by the bridge at the start of each call it makes).</summary>
    public static CancellationToken Cancellation { get => t_cancellation; set => t_cancellation = value; }

    /// <summary>An fs proxy for this port (shared; thread-safe: it holds no per-call state).</summary>
    public FsClient Fs => _fs ??= new FsClient(this);

    /// <summary>An io proxy for this port (shared, as <see cref="Fs"/>).</summary>
    public IoClient Io => _io ??= new IoClient(this);

    /// <summary>An fs_ext proxy for this port (shared, as <see cref="Fs"/>).</summary>
    public FsExtClient FsExt => _fsExt ??= new FsExtClient(this);

    /// <inheritdoc/>
    public RpcCall BeginCall(uint id)
    {
        var call = Right.BeginCall(id);
        var ct = t_cancellation;
        if (ct.CanBeCanceled) call.Cancellation = ct;
        return call;
    }

    /// <summary>Takes a lease; false once the last reference is gone.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            int r = Volatile.Read(ref _refs);
            if (r <= 0) return false;
            if (Interlocked.CompareExchange(ref _refs, r + 1, r) == r) return true;
        }
    }

    /// <summary>Drops a reference (a lease or the owner's); the last one deallocates the right.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Right.Dispose();
    }
}

/// <summary>What names a file across the translators the bridge reaches: io_stat's (st_dev, st_ino, st_gen).</summary>
internal readonly record struct NodeKey(ulong Dev, ulong Ino, uint Generation);

/// <summary>
/// One kernel inode (FUSE node id) of the bridge: the file's key, its lookup count and its ports. <see cref="Root"/> is
/// a port with uid-0 identity and no open modes (the node itself, like O_PATH); ports for other identities are derived
/// from it with io_restrict_auth and kept in <see cref="Ports"/>. A node entered through a node reference
/// (<see cref="Ref"/>, fs_ext noderef_*) has no <see cref="Root"/> until a request needs a port for it: the bridge then
/// makes it from the reference (noderef_open). Mutable fields are guarded by the table's lock.
/// </summary>
internal sealed class BridgeNode(ulong nodeId, NodeKey key, PortRef? root, ulong nodeRef, bool foreign)
{
    public readonly ulong NodeId = nodeId;
    public readonly NodeKey Key = key;
    /// <summary>The uid-0 port, or null until made from <see cref="Ref"/>. Read and written under the table's lock.</summary>
    public PortRef? Root = root;
    /// <summary>The node's reference on the bridge's session port (its root's uid-0 port), 0 for none. Node 1, the
    /// session's own node, is named by reference 0 too (see FuseBridge.Named).</summary>
    public readonly ulong Ref = nodeRef;
    /// <summary>The file belongs to another filesystem than the bridge's root (a translator inside the tree).</summary>
    public readonly bool Foreign = foreign;
    public long Lookups;
    public bool Dead;
    /// <summary>The file's type and mode as last seen (entry, getattr, setattr); decides whether names in a directory
    /// may be cached by the kernel (FuseBridge.SearchableByAll). Written without the lock: a hint, refreshed often.</summary>
    public volatile uint Mode;
    /// <summary>Ports for identities other than root, made on first need (most nodes are only ever root's).</summary>
    public Dictionary<BridgeIdentity, LinkedListNode<IdentityPort>>? Ports;
    /// <summary>The port of a FUSE handle root holds open on the node (the last one made), or null: a protid with uid-0
    /// identity, which the calls that check only the identity (chown, chmod, utimens, stat) may use instead of
    /// <see cref="Root"/>, so a node entered by reference needs no port of its own for them. Set and cleared with
    /// Interlocked by the bridge (FuseBridge.AddHandle / DropHandle); used only under a lease (PortRef.TryAcquire).</summary>
    public PortRef? RootHandle;

    // auto_cache (libfuse's): the file's mtime and size seen at the last open, guarded by lock(CacheLock). An open that
    // sees the same again lets the kernel keep the page cache filled since then (FOPEN_KEEP_CACHE); any difference drops it.
    public readonly Lock CacheLock = new();
    private TimeSpec _cacheMtime;
    private long _cacheSize;
    private bool _cacheValid;

    /// <summary>Records the file's (mtime, size) at an open; true when they equal those of the previous open, so
    /// the pages the kernel cached since then still hold the file's data.</summary>
    public bool CacheStillValid(in Stat st)
    {
        lock (CacheLock)
        {
            bool same = _cacheValid && _cacheSize == st.Size && _cacheMtime.Sec == st.Mtime.Sec && _cacheMtime.Nsec == st.Mtime.Nsec;
            _cacheMtime = st.Mtime;
            _cacheSize = st.Size;
            _cacheValid = true;
            return same;
        }
    }
}

/// <summary>An entry of the per-identity port cache (least recently used first out).</summary>
internal sealed class IdentityPort(BridgeNode node, BridgeIdentity identity, PortRef port)
{
    public readonly BridgeNode Node = node;
    public readonly BridgeIdentity Identity = identity;
    public readonly PortRef Port = port;
}

/// <summary>
/// The bridge's node table: node ids (a 64-bit counter, never reused; 1 is the root) keyed by <see cref="NodeKey"/>,
/// so hard links and repeated lookups give the same node id; lookup counts as fuse.md §1.4 states; and a bounded LRU
/// cache of per-identity ports. All methods are thread-safe; none makes an RPC while holding the lock.
/// </summary>
internal sealed class NodeTable(int maxIdentityPorts, Action<ulong> releaseRef)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, BridgeNode> _byId = new();
    private readonly Dictionary<NodeKey, BridgeNode> _byKey = new();
    // (st_dev, st_ino) of each live node: lets READDIRPLUS recognise an entry's file from its dirent alone.
    private readonly Dictionary<(ulong Dev, ulong Ino), BridgeNode> _byIno = new();
    private readonly LinkedList<IdentityPort> _lru = new();
    private ulong _next = 1;

    /// <summary>Nodes in the table (the root included).</summary>
    public int Count { get { lock (_lock) return _byId.Count; } }

    /// <summary>Per-identity ports cached.</summary>
    public int IdentityPortCount { get { lock (_lock) return _lru.Count; } }

    /// <summary>Enters the root (node id 1, never forgotten).</summary>
    public BridgeNode AddRoot(NodeKey key, PortRef root)
    {
        lock (_lock)
        {
            var n = new BridgeNode(_next++, key, root, 0, foreign: false) { Lookups = 1 };
            _byId.Add(n.NodeId, n);
            _byKey[key] = n;
            _byIno[(key.Dev, key.Ino)] = n;
            return n;
        }
    }

    /// <summary>The node with id <paramref name="nodeId"/>, or null.</summary>
    public BridgeNode? Get(ulong nodeId)
    {
        lock (_lock) return _byId.TryGetValue(nodeId, out var n) ? n : null;
    }

    /// <summary>The node with <paramref name="key"/> with one more lookup count, or null if there is none.</summary>
    public BridgeNode? FindAndCount(NodeKey key)
    {
        lock (_lock)
        {
            if (!_byKey.TryGetValue(key, out var n)) return null;
            n.Lookups++;
            return n;
        }
    }

    /// <summary>The live node of inode <paramref name="ino"/> on device <paramref name="dev"/> (any generation), or null.
    /// Counts nothing: the caller checks it is the file it wants, then <see cref="TryCount"/>.</summary>
    public BridgeNode? FindByIno(ulong dev, ulong ino)
    {
        lock (_lock) return _byIno.TryGetValue((dev, ino), out var n) ? n : null;
    }

    /// <summary><see cref="FindByIno"/> for a run of inodes under one acquisition of the table's lock (a READDIRPLUS
    /// chunk asks for each of its entries).</summary>
    public void FindManyByIno(ulong dev, ReadOnlySpan<ulong> inos, Span<BridgeNode?> found)
    {
        lock (_lock)
        {
            for (int i = 0; i < inos.Length; i++)
                found[i] = _byIno.TryGetValue((dev, inos[i]), out var n) ? n : null;
        }
    }

    /// <summary>One more lookup count on <paramref name="n"/>; false if it has been forgotten meanwhile.</summary>
    public bool TryCount(BridgeNode n)
    {
        lock (_lock)
        {
            if (n.Dead) return false;
            n.Lookups++;
            return true;
        }
    }

    /// <summary>The node with <paramref name="key"/> with one more lookup count: an existing one (which keeps
    /// <paramref name="root"/> if it had no port yet, else it is released), or a new one holding <paramref name="root"/>.</summary>
    public BridgeNode Enter(NodeKey key, PortRef root, bool foreign)
    {
        BridgeNode n;
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var old))
            {
                old.Lookups++;
                n = old;
                if (old.Root is null) { old.Root = root; return n; }
            }
            else
            {
                n = new BridgeNode(_next++, key, root, 0, foreign) { Lookups = 1 };
                _byId.Add(n.NodeId, n);
                _byKey[key] = n;
                _byIno[(key.Dev, key.Ino)] = n;
                return n;
            }
        }
        root.Release();
        return n;
    }

    /// <summary>The node with <paramref name="key"/> with one more lookup count: an existing one (and the node reference
    /// <paramref name="nodeRef"/> is released), or a new one named by <paramref name="nodeRef"/>, with no port yet.</summary>
    public BridgeNode EnterRef(NodeKey key, ulong nodeRef)
    {
        BridgeNode n;
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var old))
            {
                old.Lookups++;
                n = old;
            }
            else
            {
                n = new BridgeNode(_next++, key, null, nodeRef, foreign: false) { Lookups = 1 };
                _byId.Add(n.NodeId, n);
                _byKey[key] = n;
                _byIno[(key.Dev, key.Ino)] = n;
                return n;
            }
        }
        releaseRef(nodeRef);
        return n;
    }

    /// <summary>The node with <paramref name="key"/> named by reference <paramref name="nodeRef"/>, with one more lookup
    /// count, or null when there is none (it was forgotten, and its reference released, meanwhile). For
    /// noderef_lookup_known's answer "the reference you hold": nothing to release.</summary>
    public BridgeNode? CountKnownRef(NodeKey key, ulong nodeRef)
    {
        lock (_lock)
        {
            if (!_byKey.TryGetValue(key, out var n) || n.Ref != nodeRef || n.Dead) return null;
            n.Lookups++;
            return n;
        }
    }

    /// <summary>Gives <paramref name="n"/> its uid-0 port (made from its reference) and returns a lease on the node's
    /// port: <paramref name="root"/>, or the one a racing request installed first (and <paramref name="root"/> is
    /// released). Null (port released) when the node is gone.</summary>
    public PortRef? InstallRoot(BridgeNode n, PortRef root)
    {
        lock (_lock)
        {
            if (!n.Dead)
            {
                if (n.Root is null) n.Root = root;
                if (n.Root.TryAcquire())
                {
                    if (n.Root == root) return root;
                    root.Release();
                    return n.Root;
                }
            }
        }
        root.Release();
        return null;
    }

    /// <summary>FORGET: drops <paramref name="count"/> lookups; at zero the node leaves the table and its ports are
    /// deallocated (once no request holds them). The root (id 1) is never removed.</summary>
    public void Forget(ulong nodeId, ulong count)
    {
        List<PortRef>? drop = null;
        PortRef? dropRoot;
        ulong dropRef;
        lock (_lock)
        {
            if (!_byId.TryGetValue(nodeId, out var n)) return;
            n.Lookups -= (long)Math.Min(count, (ulong)long.MaxValue);
            if (n.Lookups > 0 || nodeId == 1) return;
            n.Dead = true;
            _byId.Remove(nodeId);
            if (_byKey.TryGetValue(n.Key, out var k) && k == n) _byKey.Remove(n.Key);
            if (_byIno.TryGetValue((n.Key.Dev, n.Key.Ino), out k) && k == n) _byIno.Remove((n.Key.Dev, n.Key.Ino));
            dropRoot = n.Root;
            dropRef = n.Ref;
            if (n.Ports is { } ports)
            {
                drop = new List<PortRef>(ports.Count);
                foreach (var lln in ports.Values)
                {
                    _lru.Remove(lln);
                    drop.Add(lln.Value.Port);
                }
                n.Ports = null;
            }
        }
        dropRoot?.Release();
        if (drop is not null) foreach (var p in drop) p.Release();
        if (dropRef != 0) releaseRef(dropRef);
    }

    /// <summary>A lease on the port of <paramref name="n"/> for <paramref name="id"/> from the cache (moved to the front),
    /// or on the root port for <see cref="BridgeIdentity.IsRoot"/>; null on a miss or when the node is gone.</summary>
    public PortRef? TryLease(BridgeNode n, BridgeIdentity id)
    {
        lock (_lock)
        {
            if (n.Dead) return null;
            if (id.IsRoot) return n.Root is { } r && r.TryAcquire() ? r : null;
            if (n.Ports is null || !n.Ports.TryGetValue(id, out var lln)) return null;
            _lru.Remove(lln);
            _lru.AddFirst(lln);
            return lln.Value.Port.TryAcquire() ? lln.Value.Port : null;
        }
    }

    /// <summary>A lease on the node's root port, or null when the node is gone or has none yet (a node entered by
    /// reference: FuseBridge.RootPort makes it).</summary>
    public PortRef? LeaseRoot(BridgeNode n)
    {
        lock (_lock) return !n.Dead && n.Root is { } r && r.TryAcquire() ? r : null;
    }

    /// <summary>
    /// Offers <paramref name="port"/> (owned by the caller, with identity <paramref name="id"/>) to the cache and returns a
    /// lease on the cached port for that identity: the offered one, or one that won a race (and the offered one is
    /// released). Evicts the least recently used ports beyond the bound. Null (port released) if the node is gone.
    /// </summary>
    public PortRef? Offer(BridgeNode n, BridgeIdentity id, PortRef port)
    {
        List<PortRef>? drop = null;
        PortRef? result;
        lock (_lock)
        {
            if (n.Dead || id.IsRoot) { result = null; (drop ??= []).Add(port); }
            else if ((n.Ports ??= new()).TryGetValue(id, out var have) && have.Value.Port.TryAcquire())
            {
                result = have.Value.Port;
                (drop ??= []).Add(port);
            }
            else
            {
                if (have is not null) { _lru.Remove(have); n.Ports.Remove(id); (drop ??= []).Add(have.Value.Port); }
                var lln = _lru.AddFirst(new IdentityPort(n, id, port));
                n.Ports[id] = lln;
                port.TryAcquire();
                result = port;
                while (_lru.Count > maxIdentityPorts && _lru.Last is { } last && last != lln)
                {
                    _lru.RemoveLast();
                    last.Value.Node.Ports?.Remove(last.Value.Identity);
                    (drop ??= []).Add(last.Value.Port);
                }
            }
        }
        if (drop is not null) foreach (var p in drop) p.Release();
        return result;
    }

    /// <summary>Empties the table: every port is released; with <paramref name="keepRoot"/> the root node and its
    /// uid-0 port stay (the end of a FUSE connection, where every lookup count drops to 0 without FORGETs).</summary>
    public void Clear(bool keepRoot = false)
    {
        List<PortRef> drop = [];
        List<ulong> dropRefs = [];
        lock (_lock)
        {
            _byId.TryGetValue(1, out var root);
            foreach (var n in _byId.Values)
            {
                if (keepRoot && n == root) continue;
                n.Dead = true;
                if (n.Root is { } r) drop.Add(r);
                if (n.Ref != 0) dropRefs.Add(n.Ref);
            }
            foreach (var ip in _lru) drop.Add(ip.Port);
            _lru.Clear();
            foreach (var n in _byId.Values) n.Ports = null;
            _byId.Clear();
            _byKey.Clear();
            _byIno.Clear();
            if (keepRoot && root is not null)
            {
                _byId.Add(root.NodeId, root);
                _byKey[root.Key] = root;
                _byIno[(root.Key.Dev, root.Key.Ino)] = root;
            }
        }
        foreach (var r in dropRefs) releaseRef(r);
        foreach (var p in drop) p.Release();
    }
}
