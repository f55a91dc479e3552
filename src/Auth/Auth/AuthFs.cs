using System.Runtime.CompilerServices;
using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Auth;

/// <summary>
/// The auth server as a read-only filesystem on the translator SDK:
/// <code>
/// self          the reader's own ids: those of the protid it opened the file through (through FUSE, the
///               kernel-reported uid, gid and groups of the reading process)
/// handles/N     one file per live auth handle (N its number): its effective and available id sets;
///               mode 0400, owned by the handle's first effective uid and gid (root for a handle without
///               uids): root lists and reads every handle, anyone else only the handles it owns
/// </code>
/// Each file reads as four lines, <c>euids: ...</c>, <c>auids: ...</c>, <c>egids: ...</c>, <c>agids: ...</c>
/// (ids separated by spaces). Every change answers EROFS (EACCES first where the mode bits refuse it).
/// </summary>
public sealed class AuthFs
{
    private readonly AuthDaemon _daemon;

    /// <summary>A view of <paramref name="daemon"/>'s handles.</summary>
    public AuthFs(AuthDaemon daemon)
    {
        _daemon = daemon;
        Root = new RootDir(this);
        Self = new SelfFile(this);
        HandlesDir = new HandlesDirectory(this);
    }

    /// <summary>The root directory.</summary>
    public Node Root { get; }
    internal Node Self { get; }
    internal Node HandlesDir { get; }
    internal readonly TimeSpec Born = TimeSpec.Now();

    internal const ulong RootIno = 1, SelfIno = 2, HandlesIno = 3, FirstHandleIno = 16;

    /// <summary>st_dev of every node: "auth" and the pid. A FUSE bridge tells the filesystems of one tree apart by
    /// st_dev (the same inode number in two translators must be two files).</summary>
    internal static readonly ulong Dev = 0x6175_7468_0000_0000UL | (uint)Environment.ProcessId;

    /// <summary>The text of an id set, as every file of this filesystem shows it.</summary>
    public static byte[] Format(ReadOnlySpan<uint> euids, ReadOnlySpan<uint> auids, ReadOnlySpan<uint> egids, ReadOnlySpan<uint> agids)
    {
        var sb = new StringBuilder(96);
        Line(sb, "euids", euids); Line(sb, "auids", auids); Line(sb, "egids", egids); Line(sb, "agids", agids);
        return Encoding.ASCII.GetBytes(sb.ToString());

        static void Line(StringBuilder sb, string what, ReadOnlySpan<uint> ids)
        {
            sb.Append(what).Append(':');
            foreach (var id in ids) sb.Append(' ').Append(id);
            sb.Append('\n');
        }
    }

    internal static byte[] Format(Identity who) => Format(who.Uids, who.AvailableUids, who.Gids, who.AvailableGids);
    internal static byte[] Format(AuthIds ids) => Format(ids.EUids, ids.AUids, ids.EGids, ids.AGids);

    /// <summary>The live handle numbered <paramref name="number"/>, or null.</summary>
    internal AuthHandle? Handle(long number)
    {
        foreach (var h in _daemon.Handles) if (h.Number == number) return h;
        return null;
    }

    internal IReadOnlyList<AuthHandle> Handles() => _daemon.Handles;

    /// <summary>The owner of a handle's file: its first effective uid, root for a handle without uids.</summary>
    internal static uint OwnerOf(AuthHandle h) => h.Ids.EUids.Length > 0 ? h.Ids.EUids[0] : 0;

    internal static Errno CopyOut(byte[] text, long offset, Span<byte> dst, out int n)
    {
        var src = offset < text.Length ? text.AsSpan((int)offset) : default;
        n = Math.Min(src.Length, dst.Length);
        src[..n].CopyTo(dst);
        return Errno.OK;
    }

    /// <summary>What every node of this filesystem shares: no write, no truncate, no attribute change.</summary>
    internal abstract class ReadOnlyNode(ulong ino) : Node(ino), IOpenHook, ITruncatable, IAttributes, IWritable
    {
        public Errno Open(OpenFile file) => file.CanWrite ? Errno.EROFS : Errno.OK;
        public Errno Truncate(long size) => Errno.EROFS;
        public Errno SetAttributes(in SetAttr attr) => Errno.EROFS;
        public Errno Write(OpenFile file, long offset, ReadOnlySpan<byte> data, out int written, out long end)
        {
            written = 0; end = offset;
            return Errno.EROFS;
        }
    }

    /// <summary>A directory whose entries are fixed or computed; every mutation is EROFS.</summary>
    internal abstract class ReadOnlyDir(ulong ino, Node? parent) : ReadOnlyNode(ino), IDirectory, IStatable
    {
        protected abstract TimeSpec Time { get; }
        /// <summary>The parent directory (the root's is itself).</summary>
        public Node Parent => parent ?? this;

        public Errno Stat(Protid who, ref Stat st)
        {
            st.Mode = FileMode.Directory | (FileMode)0x16d; // 0555
            st.Dev = Dev;
            st.Nlink = 2;
            st.Atime = st.Mtime = st.Ctime = Time;
            return Errno.OK;
        }

        public abstract Errno Lookup(ReadOnlySpan<byte> name, out Node? node);
        public abstract Errno ReadDir(long cookie, IDirEntrySink sink);

        public Errno Create(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node) { node = null; return Errno.EROFS; }
        public Errno Mkdir(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node) { node = null; return Errno.EROFS; }
        public Errno Symlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, in NewNode attrs, out Node? node) { node = null; return Errno.EROFS; }
        public Errno Link(ReadOnlySpan<byte> name, Node target) => Errno.EROFS;
        public Errno Unlink(ReadOnlySpan<byte> name) => Errno.EROFS;
        public Errno Rmdir(ReadOnlySpan<byte> name) => Errno.EROFS;
        public Errno Rename(ReadOnlySpan<byte> oldName, Node newDir, ReadOnlySpan<byte> newName, RenameFlags flags) => Errno.EROFS;

        /// <summary>Offers "." and ".." for cookies 0 and 1; false when the sink is full.</summary>
        protected bool Dots(ref long cookie, IDirEntrySink sink)
        {
            if (cookie <= 0) { if (!sink.Add("."u8, Ino, FileMode.Directory, 1, this)) return false; cookie = 1; }
            if (cookie == 1) { if (!sink.Add(".."u8, Parent.Ino, FileMode.Directory, 2, Parent)) return false; cookie = 2; }
            return true;
        }
    }

    /// <summary>
    /// The root. It appears owned by whoever looks at it (uid and gid of the stat's protid), mode 0505: its
    /// entries are then never cached by the Linux kernel (the FUSE bridge lets the kernel cache names only in
    /// directories owner, group and others may all search), so each reader's walk looks <c>self</c> up again and
    /// the kernel learns that reader's size of it, instead of serving the size another reader saw (which would
    /// cut a longer text short). The caller always matches the owner class; an unauthenticated one gets the
    /// "other" bits, r-x as well.
    /// </summary>
    private sealed class RootDir(AuthFs fs) : ReadOnlyDir(RootIno, null), IStatable
    {
        protected override TimeSpec Time => fs.Born;

        Errno IStatable.Stat(Protid who, ref Stat st)
        {
            st.Mode = FileMode.Directory | (FileMode)0x145; // 0505
            st.Dev = Dev;
            st.Uid = who.User.Uid;
            st.Gid = who.User.Gid;
            st.Nlink = 3;
            st.Atime = st.Mtime = st.Ctime = fs.Born;
            return Errno.OK;
        }

        public override Errno Lookup(ReadOnlySpan<byte> name, out Node? node)
        {
            node = name.SequenceEqual("self"u8) ? fs.Self : name.SequenceEqual("handles"u8) ? fs.HandlesDir : name.SequenceEqual(".."u8) ? this : null;
            return node is null ? Errno.ENOENT : Errno.OK;
        }

        public override Errno ReadDir(long cookie, IDirEntrySink sink)
        {
            if (!Dots(ref cookie, sink)) return Errno.OK;
            if (cookie <= 2 && !sink.Add("self"u8, SelfIno, FileMode.Regular, 3, fs.Self)) return Errno.OK;
            if (cookie <= 3) sink.Add("handles"u8, HandlesIno, FileMode.Directory, 4, fs.HandlesDir);
            return Errno.OK;
        }
    }

    /// <summary><c>self</c>: what it reads is fixed when it is opened, from the opening protid's ids.</summary>
    private sealed class SelfFile(AuthFs fs) : ReadOnlyNode(SelfIno), IStatable, IReadable, IOpenerHook
    {
        private readonly ConditionalWeakTable<OpenFile, byte[]> _texts = new();

        public Errno Opened(Protid protid)
        {
            _texts.AddOrUpdate(protid.File, Format(protid.User));
            return Errno.OK;
        }

        public Errno Stat(Protid who, ref Stat st)
        {
            st.Mode = FileMode.Regular | (FileMode)0x124; // 0444
            st.Dev = Dev;
            st.Size = (_texts.TryGetValue(who.File, out var t) ? t : Format(who.User)).Length;
            st.Atime = st.Mtime = st.Ctime = fs.Born;
            return Errno.OK;
        }

        public Errno Read(OpenFile file, long offset, Span<byte> buffer, out int read) =>
            CopyOut(_texts.TryGetValue(file, out var t) ? t : [], offset, buffer, out read);
    }

    /// <summary><c>handles/</c>: root lists every handle, anyone else the handles it owns (<see cref="IReadDirAs"/>).</summary>
    private sealed class HandlesDirectory(AuthFs fs) : ReadOnlyDir(HandlesIno, fs.Root), IReadDirAs
    {
        protected override TimeSpec Time => TimeSpec.Now();

        public override Errno Lookup(ReadOnlySpan<byte> name, out Node? node)
        {
            node = null;
            if (name.SequenceEqual(".."u8)) { node = Parent; return Errno.OK; }
            if (!Utf8Number(name, out long n) || fs.Handle(n) is not { } h) return Errno.ENOENT;
            node = new HandleFile(h);
            return Errno.OK;
        }

        public override Errno ReadDir(long cookie, IDirEntrySink sink) => List(null, cookie, sink);

        public Errno ReadDir(Protid who, long cookie, IDirEntrySink sink) => List(who.User, cookie, sink);

        private Errno List(Identity? who, long cookie, IDirEntrySink sink)
        {
            if (!Dots(ref cookie, sink)) return Errno.OK;
            // Cookie = 2 + the handle's number: numbers only grow, so a listing resumes where it stopped.
            Span<byte> name = stackalloc byte[20];
            foreach (var h in fs.Handles().OrderBy(h => h.Number))
            {
                if (2 + h.Number < cookie) continue;
                if (who is not null && !who.IsRoot && !who.HasUid(OwnerOf(h))) continue;
                h.Number.TryFormat(name, out int len);
                if (!sink.Add(name[..len], FirstHandleIno + (ulong)h.Number, FileMode.Regular, 3 + h.Number, null)) break;
            }
            return Errno.OK;
        }

        private static bool Utf8Number(ReadOnlySpan<byte> s, out long n)
        {
            n = 0;
            if (s.IsEmpty || s.Length > 18 || (s[0] == (byte)'0' && s.Length > 1)) return false;
            foreach (var c in s)
            {
                if (c < '0' || c > '9') return false;
                n = n * 10 + (c - '0');
            }
            return true;
        }
    }

    /// <summary><c>handles/N</c>: one handle's ids, readable by its owner (and root).</summary>
    private sealed class HandleFile(AuthHandle h) : ReadOnlyNode(FirstHandleIno + (ulong)h.Number), IStatable, IReadable
    {
        private readonly byte[] _text = Format(h.Ids);

        public Errno Stat(Protid who, ref Stat st)
        {
            st.Mode = FileMode.Regular | (FileMode)0x100; // 0400
            st.Dev = Dev;
            st.Uid = OwnerOf(h);
            st.Gid = h.Ids.EGids.Length > 0 ? h.Ids.EGids[0] : 0;
            st.Size = _text.Length;
            st.Atime = st.Mtime = st.Ctime = h.Created;
            return Errno.OK;
        }

        public Errno Read(OpenFile file, long offset, Span<byte> buffer, out int read) => CopyOut(_text, offset, buffer, out read);
    }
}
