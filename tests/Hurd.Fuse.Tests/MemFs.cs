using System.Text;
using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse.Tests;

/// <summary>
/// A small in-memory read-write filesystem on the raw API, for the mount tests: directories, regular files,
/// symlinks, hard links, rename, setattr, READDIRPLUS, lookup counts (nodes live until unlinked and forgotten).
/// One lock; stateless opens (handle 0).
/// </summary>
public sealed class MemFs : FuseFileSystem
{
    private sealed class Node
    {
        public ulong Id;
        public uint Mode;
        public uint Uid, Gid, Nlink = 1;
        public byte[] Data = [];
        public long Size;
        public SortedDictionary<string, ulong>? Children;
        public ulong Parent;
        public byte[]? Target;
        public long Lookups;
        public TimeSpec Atime, Mtime, Ctime;
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Node> _nodes = [];
    private ulong _next = 2;
    private readonly TimeSpan _timeout;

    /// <summary>Lookup counts the kernel holds, by node (for tests).</summary>
    public long LookupsOf(ulong node) { lock (_gate) return _nodes.TryGetValue(node, out var n) ? n.Lookups : -1; }
    /// <summary>Number of live nodes.</summary>
    public int NodeCount { get { lock (_gate) return _nodes.Count; } }
    /// <summary>Called inside UNLINK's handler (the kernel holds the directory's lock meanwhile) with the parent and name.</summary>
    public Action<ulong, byte[]>? OnUnlink { get; set; }
    /// <summary>Called at the start of LOOKUP's handler with the name, outside the filesystem's lock (a test may block in it).</summary>
    public Action<byte[]>? OnLookup { get; set; }
    /// <summary>WRITE requests served so far.</summary>
    public int Writes => Volatile.Read(ref _writes);
    private int _writes;
    /// <summary>Set by Destroy.</summary>
    public bool Destroyed { get; private set; }

    public MemFs(TimeSpan? timeout = null)
    {
        _timeout = timeout ?? TimeSpan.FromSeconds(1);
        var now = TimeSpec.Now();
        var root = new Node { Id = FuseKernel.RootId, Mode = 0x4000 | 0x1ED, Nlink = 2, Children = new(StringComparer.Ordinal), Parent = 1, Atime = now, Mtime = now, Ctime = now };
        _nodes[1] = root;
    }

    /// <summary>Adds a regular file to the root before mounting.</summary>
    public void AddFile(string name, string contents)
    {
        lock (_gate)
        {
            var n = NewNode(0x8000 | 0x1A4, 0, 0);
            n.Data = Encoding.UTF8.GetBytes(contents);
            n.Size = n.Data.Length;
            _nodes[1].Children![name] = n.Id;
        }
    }

    private Node NewNode(uint mode, uint uid, uint gid)
    {
        var now = TimeSpec.Now();
        var n = new Node { Id = _next++, Mode = mode, Uid = uid, Gid = gid, Atime = now, Mtime = now, Ctime = now };
        if ((mode & 0xF000) == 0x4000) { n.Children = new(StringComparer.Ordinal); n.Nlink = 2; }
        _nodes[n.Id] = n;
        return n;
    }

    private void Fill(Node n, ref FuseAttr a)
    {
        a.Ino = n.Id; a.Mode = n.Mode; a.Nlink = n.Nlink; a.Uid = n.Uid; a.Gid = n.Gid;
        a.Size = (ulong)(n.Target?.Length ?? n.Size); a.Blocks = (a.Size + 511) / 512; a.Blksize = 4096;
        a.Atime = (ulong)n.Atime.Sec; a.Atimensec = (uint)n.Atime.Nsec;
        a.Mtime = (ulong)n.Mtime.Sec; a.Mtimensec = (uint)n.Mtime.Nsec;
        a.Ctime = (ulong)n.Ctime.Sec; a.Ctimensec = (uint)n.Ctime.Nsec;
    }

    private EntryOut EntryFor(Node n)
    {
        var e = new EntryOut { NodeId = n.Id, Generation = 1 };
        e.SetTimeouts(_timeout, _timeout);
        Fill(n, ref e.Attr);
        return e;
    }

    private static string S(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);

    private Errno Dir(ulong id, out Node dir)
    {
        if (!_nodes.TryGetValue(id, out dir!)) return Errno.ENOENT;
        return dir.Children is null ? Errno.ENOTDIR : Errno.OK;
    }

    public override void Destroy() => Destroyed = true;

    public override Errno Lookup(in FuseContext ctx, ReadOnlySpan<byte> name, out EntryOut entry)
    {
        entry = default;
        OnLookup?.Invoke(name.ToArray());
        lock (_gate)
        {
            Errno e = Dir(ctx.NodeId, out Node dir);
            if (e != 0) return e;
            if (!dir.Children!.TryGetValue(S(name), out ulong id)) return Errno.ENOENT;
            Node n = _nodes[id];
            n.Lookups++;
            entry = EntryFor(n);
            return Errno.OK;
        }
    }

    public override void Forget(ulong nodeId, ulong nlookup)
    {
        lock (_gate)
        {
            if (nodeId == FuseKernel.RootId || !_nodes.TryGetValue(nodeId, out Node? n)) return;
            n.Lookups -= (long)nlookup;
            if (n.Lookups <= 0 && n.Nlink == 0) _nodes.Remove(nodeId);
        }
    }

    public override Errno Getattr(in FuseContext ctx, in GetattrIn input, out AttrOut attr)
    {
        attr = default;
        lock (_gate)
        {
            if (!_nodes.TryGetValue(ctx.NodeId, out Node? n)) return Errno.ENOENT;
            attr.SetTimeout(_timeout);
            Fill(n, ref attr.Attr);
            return Errno.OK;
        }
    }

    public override Errno Setattr(in FuseContext ctx, in SetattrIn input, out AttrOut attr)
    {
        attr = default;
        lock (_gate)
        {
            if (!_nodes.TryGetValue(ctx.NodeId, out Node? n)) return Errno.ENOENT;
            var v = input.Valid;
            if ((v & SetattrValid.Mode) != 0) n.Mode = (n.Mode & 0xF000) | (input.Mode & 0xFFF);
            if ((v & SetattrValid.Uid) != 0) n.Uid = input.Uid;
            if ((v & SetattrValid.Gid) != 0) n.Gid = input.Gid;
            if ((v & SetattrValid.Size) != 0)
            {
                if (n.Children != null) return Errno.EISDIR;
                Resize(n, (long)input.Size);
                n.Mtime = TimeSpec.Now();
            }
            if ((v & SetattrValid.AtimeNow) != 0) n.Atime = TimeSpec.Now();
            else if ((v & SetattrValid.Atime) != 0) n.Atime = new TimeSpec((long)input.Atime, input.Atimensec);
            if ((v & SetattrValid.MtimeNow) != 0) n.Mtime = TimeSpec.Now();
            else if ((v & SetattrValid.Mtime) != 0) n.Mtime = new TimeSpec((long)input.Mtime, input.Mtimensec);
            n.Ctime = TimeSpec.Now();
            attr.SetTimeout(_timeout);
            Fill(n, ref attr.Attr);
            return Errno.OK;
        }
    }

    private static void Resize(Node n, long size)
    {
        if (size > n.Data.Length) Array.Resize(ref n.Data, (int)Math.Max(size, n.Data.Length * 2L));
        if (size < n.Size) Array.Clear(n.Data, (int)size, (int)(n.Size - size));
        n.Size = size;
    }

    public override Errno Readlink(in FuseContext ctx, Span<byte> target, out int length)
    {
        length = 0;
        lock (_gate)
        {
            if (!_nodes.TryGetValue(ctx.NodeId, out Node? n)) return Errno.ENOENT;
            if (n.Target is null) return Errno.EINVAL;
            length = Math.Min(n.Target.Length, target.Length);
            n.Target.AsSpan(0, length).CopyTo(target);
            return Errno.OK;
        }
    }

    private Errno Make(ulong parent, ReadOnlySpan<byte> name, uint mode, uint uid, uint gid, out EntryOut entry, out Node? made)
    {
        entry = default; made = null;
        Errno e = Dir(parent, out Node dir);
        if (e != 0) return e;
        string s = S(name);
        if (dir.Children!.ContainsKey(s)) return Errno.EEXIST;
        Node n = NewNode(mode, uid, gid);
        n.Parent = dir.Id;
        dir.Children[s] = n.Id;
        if (n.Children != null) dir.Nlink++;
        dir.Mtime = dir.Ctime = TimeSpec.Now();
        n.Lookups++;
        entry = EntryFor(n);
        made = n;
        return Errno.OK;
    }

    public override Errno Symlink(in FuseContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out EntryOut entry)
    {
        lock (_gate)
        {
            Errno e = Make(ctx.NodeId, name, 0xA000 | 0x1FF, ctx.Uid, ctx.Gid, out entry, out Node? n);
            if (e == 0) { n!.Target = target.ToArray(); entry = EntryFor(n); }
            return e;
        }
    }

    public override Errno Mknod(in FuseContext ctx, ReadOnlySpan<byte> name, in MknodIn input, out EntryOut entry)
    {
        entry = default;
        if ((input.Mode & 0xF000) != 0x8000) return Errno.EPERM;
        lock (_gate) return Make(ctx.NodeId, name, input.Mode, ctx.Uid, ctx.Gid, out entry, out _);
    }

    public override Errno Mkdir(in FuseContext ctx, ReadOnlySpan<byte> name, in MkdirIn input, out EntryOut entry)
    {
        lock (_gate) return Make(ctx.NodeId, name, 0x4000 | (input.Mode & 0xFFF), ctx.Uid, ctx.Gid, out entry, out _);
    }

    public override Errno Create(in FuseContext ctx, ReadOnlySpan<byte> name, in CreateIn input, out EntryOut entry, out OpenOut open)
    {
        open = default;
        lock (_gate) return Make(ctx.NodeId, name, 0x8000 | (input.Mode & 0xFFF), ctx.Uid, ctx.Gid, out entry, out _);
    }

    private void Drop(Node n)
    {
        n.Nlink = n.Children != null ? 0 : n.Nlink - 1;
        n.Ctime = TimeSpec.Now();
        if (n.Nlink == 0 && n.Lookups <= 0) _nodes.Remove(n.Id);
    }

    public override Errno Unlink(in FuseContext ctx, ReadOnlySpan<byte> name)
    {
        lock (_gate)
        {
            Errno e = Dir(ctx.NodeId, out Node dir);
            if (e != 0) return e;
            string s = S(name);
            if (!dir.Children!.TryGetValue(s, out ulong id)) return Errno.ENOENT;
            Node n = _nodes[id];
            if (n.Children != null) return Errno.EISDIR;
            dir.Children.Remove(s);
            dir.Mtime = dir.Ctime = TimeSpec.Now();
            Drop(n);
        }
        OnUnlink?.Invoke(ctx.NodeId, name.ToArray());
        return Errno.OK;
    }

    public override Errno Rmdir(in FuseContext ctx, ReadOnlySpan<byte> name)
    {
        lock (_gate)
        {
            Errno e = Dir(ctx.NodeId, out Node dir);
            if (e != 0) return e;
            string s = S(name);
            if (!dir.Children!.TryGetValue(s, out ulong id)) return Errno.ENOENT;
            Node n = _nodes[id];
            if (n.Children is null) return Errno.ENOTDIR;
            if (n.Children.Count > 0) return Errno.ENOTEMPTY;
            dir.Children.Remove(s);
            dir.Nlink--;
            Drop(n);
            return Errno.OK;
        }
    }

    public override Errno Rename(in FuseContext ctx, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        if ((flags & ~RenameFlags.NoReplace) != 0) return Errno.EINVAL;
        lock (_gate)
        {
            Errno e = Dir(ctx.NodeId, out Node from);
            if (e != 0) return e;
            if ((e = Dir(newParent, out Node to)) != 0) return e;
            string s = S(name), t = S(newName);
            if (!from.Children!.TryGetValue(s, out ulong id)) return Errno.ENOENT;
            Node n = _nodes[id];
            if (to.Children!.TryGetValue(t, out ulong old))
            {
                if (old == id) return Errno.OK;
                if ((flags & RenameFlags.NoReplace) != 0) return Errno.EEXIST;
                Node o = _nodes[old];
                if (o.Children != null && o.Children.Count > 0) return Errno.ENOTEMPTY;
                if ((o.Children != null) != (n.Children != null)) return o.Children != null ? Errno.EISDIR : Errno.ENOTDIR;
                to.Children.Remove(t);
                if (o.Children != null) to.Nlink--;
                Drop(o);
            }
            from.Children.Remove(s);
            to.Children[t] = id;
            if (n.Children != null && from != to) { from.Nlink--; to.Nlink++; n.Parent = to.Id; }
            from.Mtime = to.Mtime = n.Ctime = TimeSpec.Now();
            return Errno.OK;
        }
    }

    public override Errno Link(in FuseContext ctx, ulong oldNodeId, ReadOnlySpan<byte> newName, out EntryOut entry)
    {
        entry = default;
        lock (_gate)
        {
            Errno e = Dir(ctx.NodeId, out Node dir);
            if (e != 0) return e;
            if (!_nodes.TryGetValue(oldNodeId, out Node? n)) return Errno.ENOENT;
            if (n.Children != null) return Errno.EPERM;
            string s = S(newName);
            if (dir.Children!.ContainsKey(s)) return Errno.EEXIST;
            dir.Children[s] = n.Id;
            n.Nlink++;
            n.Lookups++;
            entry = EntryFor(n);
            return Errno.OK;
        }
    }

    public override Errno Open(in FuseContext ctx, in OpenIn input, out OpenOut open)
    {
        open = default;
        lock (_gate)
        {
            if (!_nodes.TryGetValue(ctx.NodeId, out Node? n)) return Errno.ENOENT;
            if ((input.Flags & 0x200) != 0 && (input.Flags & 3) != 0) { Resize(n, 0); n.Mtime = TimeSpec.Now(); } // O_TRUNC (ATOMIC_O_TRUNC)
            return Errno.OK;
        }
    }

    public override Errno Read(in FuseContext ctx, in ReadIn input, Span<byte> data, out int count)
    {
        count = 0;
        lock (_gate)
        {
            if (!_nodes.TryGetValue(ctx.NodeId, out Node? n)) return Errno.ENOENT;
            if (n.Children != null) return Errno.EISDIR;
            long off = (long)input.Offset;
            if (off >= n.Size) return Errno.OK;
            count = (int)Math.Min(data.Length, n.Size - off);
            n.Data.AsSpan((int)off, count).CopyTo(data);
            return Errno.OK;
        }
    }

    public override Errno Write(in FuseContext ctx, in WriteIn input, ReadOnlySpan<byte> data, out uint written)
    {
        Interlocked.Increment(ref _writes);
        written = 0;
        lock (_gate)
        {
            if (!_nodes.TryGetValue(ctx.NodeId, out Node? n)) return Errno.ENOENT;
            long off = (input.Flags & 0x400) != 0 ? n.Size : (long)input.Offset; // O_APPEND
            long end = off + data.Length;
            if (end > int.MaxValue) return Errno.EFBIG;
            if (end > n.Size) Resize(n, end);
            data.CopyTo(n.Data.AsSpan((int)off));
            n.Mtime = n.Ctime = TimeSpec.Now();
            written = (uint)data.Length;
            return Errno.OK;
        }
    }

    public override Errno Flush(in FuseContext ctx, in FlushIn input) => Errno.OK;
    public override Errno Fsync(in FuseContext ctx, in FsyncIn input) => Errno.OK;
    public override Errno Opendir(in FuseContext ctx, in OpenIn input, out OpenOut open) { open = default; return Errno.OK; }

    public override Errno Readdir(in FuseContext ctx, in ReadIn input, ref DirentWriter writer)
    {
        lock (_gate)
        {
            Errno e = Dir(ctx.NodeId, out Node dir);
            if (e != 0) return e;
            // Cookie = index + 1 into [".", "..", children in name order]; fine for a test filesystem.
            ulong i = 0;
            foreach (var (name, id, node) in List(dir))
            {
                i++;
                if (i <= input.Offset) continue;
                byte[] nb = Encoding.UTF8.GetBytes(name);
                if (writer.IsPlus && !DirentWriter.IsDotOrDotDot(nb))
                {
                    EntryOut entry = EntryFor(node);
                    if (!writer.TryAddPlus(in entry, i, nb)) break;
                    node.Lookups++;
                }
                else if (!writer.TryAdd(id, i, DirentWriter.TypeOf(node.Mode), nb)) break;
            }
            return Errno.OK;
        }
    }

    private IEnumerable<(string, ulong, Node)> List(Node dir)
    {
        yield return (".", dir.Id, dir);
        yield return ("..", dir.Parent, _nodes.TryGetValue(dir.Parent, out Node? p) ? p : dir);
        foreach (var (name, id) in dir.Children!) yield return (name, id, _nodes[id]);
    }
}
