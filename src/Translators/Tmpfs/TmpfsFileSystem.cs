using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Tmpfs;

/// <summary>
/// One tmpfs instance: the root directory, the size and inode accounting, the options.
/// </summary>
/// <remarks>
/// <para>Locking: <see cref="Tree"/> (one reader-writer lock per filesystem) guards every directory's entries and the
/// namespace-wide invariants (parents, link counts, rename's subtree rule); lookups and readdir take it shared, mutations
/// exclusive. Each node's <see cref="Node.Lock"/> guards its data and attributes and is taken after <see cref="Tree"/>,
/// never before it; two file locks are taken in inode order.</para>
/// <para>Accounting: data is stored in 4 KiB pages (from <see cref="PagePool"/> slabs), allocated on write (sparse files cost only their written pages).
/// The size limit counts pages, directory entries (<see cref="DirentSize"/>), symlink targets, xattrs and passive
/// translator records; the inode limit counts nodes. A node is freed when its last link and its last open are gone.</para>
/// </remarks>
public sealed class TmpfsFileSystem
{
    /// <summary>The page size of file data.</summary>
    public const int PageSize = 4096;
    /// <summary>The largest file size (Linux's MAX_LFS_FILESIZE on 64-bit): beyond it writes and truncates fail with EFBIG.</summary>
    public const long MaxFileSize = long.MaxValue;
    /// <summary>statfs f_type (TMPFS_MAGIC).</summary>
    public const long Magic = 0x01021994;

    static long nextFsid;
    long usedBytes, usedInodes;
    long nextIno = 1;
    TmpfsOptions options;

    /// <summary>A new, empty tmpfs whose root is owned by <paramref name="uid"/>:<paramref name="gid"/> (the underlying
    /// node's owner) with mode <c>options.Mode</c> (default 1777).</summary>
    public TmpfsFileSystem(TmpfsOptions? options = null, uint uid = 0, uint gid = 0)
    {
        this.options = options ?? TmpfsOptions.Default;
        Fsid = (ulong)Interlocked.Increment(ref nextFsid) | 0x746d_7066_0000_0000UL;
        TryReserveInode();
        var perm = this.options.Mode ?? (FileMode)0x3FF; // 01777
        Root = new TmpfsDirectory(this, NextIno(), new NewNode(FileMode.Directory | perm, uid, gid), parent: null);
    }

    /// <summary>The root directory.</summary>
    public TmpfsDirectory Root { get; }

    /// <summary>The pages of every file.</summary>
    internal PagePool Pages { get; } = new();

    /// <summary>The namespace lock (see remarks on the class).</summary>
    /// <remarks>Recursive so that a readdir sink may look entries up (READDIRPLUS) while the listing holds it.</remarks>
    internal ReaderWriterLockSlim Tree { get; } = new(LockRecursionPolicy.SupportsRecursion);

    /// <summary>st_dev / f_fsid of this instance.</summary>
    public ulong Fsid { get; }

    /// <summary>Bytes in use (pages, entries, targets, xattrs, records).</summary>
    public long UsedBytes => Interlocked.Read(ref usedBytes);
    /// <summary>Nodes in use, including the root.</summary>
    public long UsedInodes => Interlocked.Read(ref usedInodes);

    /// <summary>The current options.</summary>
    public TmpfsOptions Options => Volatile.Read(ref options);

    /// <summary>fsys_get_options: the current options as an argz.</summary>
    public byte[] GetOptions() => Options.ToArgz();

    /// <summary>fsys_set_options: applies the options in <paramref name="argz"/> on top of the current ones.
    /// EINVAL for a bad option, or for a size or inode limit below what is in use (nothing changes then).
    /// A new --mode is applied to the root directory.</summary>
    public Errno SetOptions(ReadOnlySpan<byte> argz)
    {
        var e = TmpfsOptions.Parse(argz, Options, out var o);
        if (e != Errno.OK) return e;
        return SetOptions(o);
    }

    /// <summary>Replaces the options (see <see cref="SetOptions(ReadOnlySpan{byte})"/>).</summary>
    public Errno SetOptions(TmpfsOptions o)
    {
        if (o.Size < UsedBytes || o.Inodes < UsedInodes) return Errno.EINVAL;
        var old = Options;
        Volatile.Write(ref options, o);
        if (o.Mode is { } m && m != old.Mode)
            Root.SetAttributes(new SetAttr { Valid = AttrMask.Mode, Mode = m });
        return Errno.OK;
    }

    internal bool ReadOnly => Options.ReadOnly;

    internal ulong NextIno() => (ulong)Interlocked.Increment(ref nextIno);

    /// <summary>Takes <paramref name="bytes"/> from the size limit; false (nothing taken) when they are not there.</summary>
    internal bool TryReserve(long bytes)
    {
        if (bytes <= 0) return true;
        long limit = Options.Size;
        while (true)
        {
            long u = Interlocked.Read(ref usedBytes);
            if (bytes > limit - u) return false;
            if (Interlocked.CompareExchange(ref usedBytes, u + bytes, u) == u) return true;
        }
    }

    /// <summary>Gives back bytes taken by <see cref="TryReserve"/>.</summary>
    internal void Release(long bytes)
    {
        if (bytes > 0) Interlocked.Add(ref usedBytes, -bytes);
    }

    internal bool TryReserveInode()
    {
        while (true)
        {
            long u = Interlocked.Read(ref usedInodes);
            if (u >= Options.Inodes) return false;
            if (Interlocked.CompareExchange(ref usedInodes, u + 1, u) == u) return true;
        }
    }

    internal void ReleaseInode() => Interlocked.Decrement(ref usedInodes);

    /// <summary>What a directory entry of a name of <paramref name="nameLength"/> bytes costs against the size limit
    /// (a 24-byte record plus the name, 8-aligned, as a dirent).</summary>
    public static long DirentSize(int nameLength) => (24 + nameLength + 7) & ~7L;

    /// <summary>file_statfs for any node of this filesystem.</summary>
    public void StatFs(ref StatFs st)
    {
        var o = Options;
        long used = UsedBytes;
        st.Type = Magic;
        st.Bsize = PageSize;
        st.Frsize = PageSize;
        st.Blocks = o.Size / PageSize;
        st.Bfree = Math.Max(0, (o.Size - used) / PageSize);
        st.Bavail = st.Bfree;
        st.Files = o.Inodes;
        st.Ffree = Math.Max(0, o.Inodes - UsedInodes);
        st.Fsid = Fsid;
        st.Namelen = Limits.NameMax;
        st.Flags = o.ReadOnly ? 1 : 0; // ST_RDONLY
    }
}
