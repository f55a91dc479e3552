using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Translators.Tests;

/// <summary>
/// A tiny POSIX-like client over the node API for tests: paths are resolved with <see cref="Calls.DirLookup"/> from the
/// filesystem root, then the SDK call is made with this client's identity. Every call returns the Errno.
/// (The real client side, the shim and the FUSE bridge, comes later; this is the same shape without IPC.)
/// </summary>
public sealed class PosixClient
{
    public PosixClient(Node root, Identity who)
    {
        Root = root;
        Who = who;
        RootProtid = new Protid(who, new OpenFile(root, OpenFlags.None));
    }

    public Node Root { get; }
    public Identity Who { get; }
    public Protid RootProtid { get; }

    static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public Errno Lookup(string path, OpenFlags flags, out LookupResult r, FileMode mode = (FileMode)0x1A4) =>
        Calls.DirLookup(RootProtid, Root, B(path), flags, mode, out r);

    /// <summary>Resolves a path to a node (following symlinks unless <paramref name="nofollow"/>).</summary>
    public Errno Resolve(string path, out Node node, bool nofollow = false, bool directory = false)
    {
        node = null!;
        var e = Lookup(path, (nofollow ? OpenFlags.NoLink : OpenFlags.None) | (directory ? OpenFlags.Directory : OpenFlags.None), out var r);
        if (e != Errno.OK) return e;
        if (!r.IsDone) return Errno.EXDEV; // crossing into a translator is not this client's business
        node = r.Node!;
        return Errno.OK;
    }

    /// <summary>open(2): O_READ/O_WRITE etc. in the Hurd encoding; mode for O_CREAT (default 0644).</summary>
    public Errno Open(string path, OpenFlags flags, out Protid p, FileMode mode = (FileMode)0x1A4)
    {
        var e = Calls.DirLookupOpen(RootProtid, Root, B(path), flags, mode, out var r, out var pp);
        p = pp!;
        if (e == Errno.OK && pp is null) return Errno.EXDEV;
        return e;
    }

    /// <summary>A protid with no access on the node at <paramref name="path"/> (as O_PATH).</summary>
    public Errno Handle(string path, out Protid p, bool nofollow = false, bool directory = false)
    {
        p = null!;
        var e = Resolve(path, out var n, nofollow, directory);
        if (e != Errno.OK) return e;
        e = Calls.Open(Who, n, OpenFlags.None, false, out var pp);
        p = pp!;
        return e;
    }

    Errno Parent(string path, out Protid dir, out byte[] name)
    {
        int i = path.TrimEnd('/').LastIndexOf('/');
        string d = i < 0 ? "" : path[..i];
        name = B(i < 0 ? path : path[(i + 1)..]);
        // the kernel walks through the parent (link_path_walk): it must be a directory the caller may search
        var e = Handle(d, out dir, directory: true);
        if (e != Errno.OK) return e;
        e = Calls.FileCheckAccess(dir, dir.Node, Access.Exec);
        if (e != Errno.OK) { dir.Release(); dir = null!; }
        return e;
    }

    public Errno Stat(string path, out Stat st, bool nofollow = false)
    {
        st = default;
        var e = Handle(path, out var p, nofollow);
        if (e != Errno.OK) return e;
        try { return Calls.IoStat(p, out st); } finally { p.Release(); }
    }

    public Stat StatOk(string path, bool nofollow = false)
    {
        Assert.Equal(Errno.OK, Stat(path, out var st, nofollow));
        return st;
    }

    public Errno Mkdir(string path, uint mode = 0x1ED)
    {
        var e = Parent(path, out var d, out var n);
        if (e != Errno.OK) return e;
        try { return Calls.DirMkdir(d, n, (FileMode)mode, out _); } finally { d.Release(); }
    }

    public Errno Mknod(string path, FileMode mode, ulong rdev = 0)
    {
        var e = Parent(path, out var d, out var n);
        if (e != Errno.OK) return e;
        try { return Calls.DirMknod(d, n, mode, rdev, out _); } finally { d.Release(); }
    }

    public Errno Symlink(string target, string path)
    {
        var e = Parent(path, out var d, out var n);
        if (e != Errno.OK) return e;
        try { return Calls.DirSymlink(d, n, B(target), out _); } finally { d.Release(); }
    }

    public Errno Link(string oldPath, string newPath)
    {
        var e = Resolve(oldPath, out var target, nofollow: true);
        if (e != Errno.OK) return e;
        e = Parent(newPath, out var d, out var n);
        if (e != Errno.OK) return e;
        try { return Calls.DirLink(d, target, n); } finally { d.Release(); }
    }

    public Errno Unlink(string path)
    {
        var e = Parent(path, out var d, out var n);
        if (e != Errno.OK) return e;
        try { return Calls.DirUnlink(d, n); } finally { d.Release(); }
    }

    public Errno Rmdir(string path)
    {
        var e = Parent(path, out var d, out var n);
        if (e != Errno.OK) return e;
        try { return Calls.DirRmdir(d, n); } finally { d.Release(); }
    }

    public Errno Rename(string from, string to, RenameFlags flags = RenameFlags.None)
    {
        var e = Parent(from, out var fd, out var fn);
        if (e != Errno.OK) return e;
        try
        {
            e = Parent(to, out var td, out var tn);
            if (e != Errno.OK) return e;
            try { return Calls.DirRename(fd, fn, td, tn, flags); } finally { td.Release(); }
        }
        finally { fd.Release(); }
    }

    public Errno Readlink(string path, out string target)
    {
        target = "";
        var e = Resolve(path, out var n, nofollow: true);
        if (e != Errno.OK) return e;
        e = Calls.Readlink(RootProtid, n, out var t);
        if (e == Errno.OK) target = Encoding.UTF8.GetString(t.Span);
        return e;
    }

    public Errno Chmod(string path, uint mode)
    {
        var e = Resolve(path, out var n);
        return e != Errno.OK ? e : Calls.FileChmod(RootProtid, n, (FileMode)mode);
    }

    public Errno Chown(string path, uint uid, uint gid)
    {
        var e = Resolve(path, out var n);
        return e != Errno.OK ? e : Calls.FileChown(RootProtid, n, uid, gid);
    }

    public Errno Utimens(string path, TimeSpec atime, TimeSpec mtime)
    {
        var e = Resolve(path, out var n);
        return e != Errno.OK ? e : Calls.FileUtimens(RootProtid, n, atime, mtime);
    }

    public Errno WriteFile(string path, byte[] data, OpenFlags extra = OpenFlags.Create | OpenFlags.Truncate)
    {
        var e = Open(path, OpenFlags.Write | extra, out var p);
        if (e != Errno.OK) return e;
        try
        {
            e = Calls.IoWrite(p, OpenFile.FilePointer, data, out int n);
            if (e == Errno.OK && n != data.Length) return Errno.ENOSPC;
            return e;
        }
        finally { p.Release(); }
    }

    public Errno WriteFile(string path, string text, OpenFlags extra = OpenFlags.Create | OpenFlags.Truncate) => WriteFile(path, B(text), extra);

    public Errno ReadFile(string path, out byte[] data)
    {
        data = [];
        var e = Open(path, OpenFlags.Read, out var p);
        if (e != Errno.OK) return e;
        try { return ReadAll(p, out data); } finally { p.Release(); }
    }

    public string ReadText(string path)
    {
        Assert.Equal(Errno.OK, ReadFile(path, out var d));
        return Encoding.UTF8.GetString(d);
    }

    public static Errno ReadAll(Protid p, out byte[] data)
    {
        var ms = new MemoryStream();
        var buf = new byte[8192];
        long off = 0;
        while (true)
        {
            var e = Calls.IoRead(p, off, buf, out int n);
            if (e != Errno.OK) { data = []; return e; }
            if (n == 0) break;
            ms.Write(buf, 0, n);
            off += n;
        }
        data = ms.ToArray();
        return Errno.OK;
    }

    public Errno Readdir(string path, out List<string> names, int batch = 1000)
    {
        names = new();
        var e = Open(path, OpenFlags.Read | OpenFlags.Directory, out var p);
        if (e != Errno.OK) return e;
        try
        {
            long cookie = 0;
            while (true)
            {
                var sink = new ListSink(batch);
                e = Calls.DirReaddir(p, cookie, sink);
                if (e != Errno.OK) return e;
                if (sink.Entries.Count == 0) return Errno.OK;
                foreach (var x in sink.Entries) names.Add(x.Name);
                cookie = sink.Entries[^1].Next;
            }
        }
        finally { p.Release(); }
    }

    public Errno Setxattr(string path, string name, byte[] value, XattrFlags flags = XattrFlags.None, bool nofollow = false)
    {
        var e = Resolve(path, out var n, nofollow);
        return e != Errno.OK ? e : Calls.Setxattr(RootProtid, n, B(name), value, flags);
    }

    public Errno Getxattr(string path, string name, out byte[] value, int bufferSize = 65536)
    {
        value = [];
        var e = Resolve(path, out var n);
        if (e != Errno.OK) return e;
        var buf = new byte[bufferSize];
        e = Calls.Getxattr(RootProtid, n, B(name), buf, out int size);
        if (e == Errno.OK) value = buf[..size];
        return e;
    }

    public Errno Listxattr(string path, out List<string> names)
    {
        names = new();
        var e = Resolve(path, out var n);
        if (e != Errno.OK) return e;
        e = Calls.Listxattr(RootProtid, n, default, out int size);
        if (e != Errno.OK) return e;
        var buf = new byte[size];
        e = Calls.Listxattr(RootProtid, n, buf, out size);
        if (e != Errno.OK) return e;
        foreach (var s in Encoding.UTF8.GetString(buf, 0, size).Split('\0', StringSplitOptions.RemoveEmptyEntries)) names.Add(s);
        return Errno.OK;
    }

    public Errno Removexattr(string path, string name)
    {
        var e = Resolve(path, out var n);
        return e != Errno.OK ? e : Calls.Removexattr(RootProtid, n, B(name));
    }
}

/// <summary>Collects dir_readdir entries, up to a limit.</summary>
public sealed class ListSink(int limit) : IDirEntrySink
{
    public List<(string Name, ulong Ino, FileMode Type, long Next, Node? Node)> Entries { get; } = new();

    public bool Add(ReadOnlySpan<byte> name, ulong ino, FileMode type, long nextCookie, Node? node)
    {
        if (Entries.Count >= limit) return false;
        Entries.Add((Encoding.UTF8.GetString(name), ino, type, nextCookie, node));
        return true;
    }
}
