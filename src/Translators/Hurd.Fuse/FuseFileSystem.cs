using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse;

/// <summary>
/// The raw FUSE filesystem: one virtual method per opcode, inode-based (the kernel names nodes by
/// 64-bit node ids the filesystem chooses; 1 is the root), in the style of go-fuse's RawFileSystem and
/// fuser's Filesystem. Every method returns an <see cref="Errno"/>; a method not overridden answers as its
/// documentation says (ENOSYS for most, which the kernel often turns into a permanent fallback).
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> Methods are called on the session's dedicated reader threads, several at a time,
/// for any node: implementations synchronise themselves. A method must not touch the filesystem's own
/// mount (self-access deadlocks) and must not wait for a notification it asked for
/// (<see cref="FuseSession.NotifyInvalEntry"/> and friends queue them for another thread).</para>
/// <para><b>Lookup counts</b> are this layer's contract with the node layer, which keeps them. A node's
/// count goes +1 for each <em>delivered</em> successful reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK,
/// CREATE and TMPFILE that names it (node id ≠ 0), and for each READDIRPLUS record naming it except
/// "." and ".."; it goes −n for each <see cref="Forget"/>(n) (and each <see cref="BatchForget"/> entry).
/// When a reply could not be delivered (the write failed with ENOENT: the caller was interrupted), the
/// dispatcher undoes it by calling <see cref="Forget"/>(node, 1) for each count the reply would have given
/// and <see cref="Release"/>/<see cref="Releasedir"/> for a handle an OPEN, OPENDIR or CREATE reply would
/// have opened, so an implementation counts at reply time and needs no other hook. A node id stays valid
/// until its count reaches 0, even after unlink or rmdir; the root is never forgotten; at unmount all
/// counts drop to 0 without FORGETs (<see cref="Destroy"/>). Node ids should never be reused.</para>
/// <para><b>Buffers.</b> Names are the bytes of one path component without the NUL (never empty, at most
/// 255 bytes: longer names are answered ENAMETOOLONG before the method is called). Output spans are the
/// reply buffer itself: write into them, never keep them.</para>
/// </remarks>
public abstract class FuseFileSystem
{
    /// <summary>
    /// INIT: the kernel offered <paramref name="connection"/>; adjust <see cref="FuseConnection.Want"/>
    /// or the limits before the reply is sent. Called once per session. Default: accept the defaults.
    /// </summary>
    public virtual void Init(FuseConnection connection) { }

    /// <summary>The session serving this filesystem (set when it is mounted), for notifications such as
    /// <see cref="FuseSession.NotifyInvalInode"/>; null before.</summary>
    public FuseSession? Session { get; internal set; }

    /// <summary>The connection ended (DESTROY, or the session stopped; called at most once). All lookup counts are now 0.</summary>
    public virtual void Destroy() { }

    /// <summary>LOOKUP <paramref name="name"/> in directory <c>ctx.NodeId</c>. On success +1 lookup count. Default: ENOSYS.</summary>
    /// <remarks>ENOENT is the ordinary miss; a negative entry that the kernel may cache is OK with NodeId 0 and EntryValid &gt; 0.</remarks>
    public virtual Errno Lookup(in FuseContext ctx, ReadOnlySpan<byte> name, out EntryOut entry) { entry = default; return Errno.ENOSYS; }

    /// <summary>FORGET: drop <paramref name="nlookup"/> lookup counts of <paramref name="nodeId"/>; never answered. Default: nothing.</summary>
    public virtual void Forget(ulong nodeId, ulong nlookup) { }

    /// <summary>BATCH_FORGET: many FORGETs at once; never answered. Default: <see cref="Forget"/> for each.</summary>
    public virtual void BatchForget(ReadOnlySpan<ForgetOne> forgets)
    {
        foreach (ref readonly ForgetOne f in forgets) Forget(f.NodeId, f.Nlookup);
    }

    /// <summary>GETATTR of <c>ctx.NodeId</c> (with a handle if bit 0 of <c>input.GetattrFlags</c> is set). Default: ENOSYS.</summary>
    public virtual Errno Getattr(in FuseContext ctx, in GetattrIn input, out AttrOut attr) { attr = default; return Errno.ENOSYS; }

    /// <summary>SETATTR: chmod, chown, truncate and utimens all arrive here, <c>input.Valid</c> says which. Answer the new attributes. Default: ENOSYS.</summary>
    public virtual Errno Setattr(in FuseContext ctx, in SetattrIn input, out AttrOut attr) { attr = default; return Errno.ENOSYS; }

    /// <summary>READLINK: write the target into <paramref name="target"/> and set <paramref name="length"/> (truncate if longer). Default: ENOSYS.</summary>
    public virtual Errno Readlink(in FuseContext ctx, Span<byte> target, out int length) { length = 0; return Errno.ENOSYS; }

    /// <summary>SYMLINK <paramref name="name"/> → <paramref name="target"/> in <c>ctx.NodeId</c>; +1 lookup count. Default: ENOSYS.</summary>
    public virtual Errno Symlink(in FuseContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out EntryOut entry) { entry = default; return Errno.ENOSYS; }

    /// <summary>MKNOD <paramref name="name"/> in <c>ctx.NodeId</c> (the kernel has applied umask unless DONT_MASK); +1 lookup count. Default: ENOSYS.</summary>
    public virtual Errno Mknod(in FuseContext ctx, ReadOnlySpan<byte> name, in MknodIn input, out EntryOut entry) { entry = default; return Errno.ENOSYS; }

    /// <summary>MKDIR <paramref name="name"/> in <c>ctx.NodeId</c>; +1 lookup count. Default: ENOSYS.</summary>
    public virtual Errno Mkdir(in FuseContext ctx, ReadOnlySpan<byte> name, in MkdirIn input, out EntryOut entry) { entry = default; return Errno.ENOSYS; }

    /// <summary>UNLINK <paramref name="name"/> from <c>ctx.NodeId</c>. Keep the node while its lookup count is not 0. Default: ENOSYS.</summary>
    public virtual Errno Unlink(in FuseContext ctx, ReadOnlySpan<byte> name) => Errno.ENOSYS;

    /// <summary>RMDIR <paramref name="name"/> from <c>ctx.NodeId</c>. Default: ENOSYS.</summary>
    public virtual Errno Rmdir(in FuseContext ctx, ReadOnlySpan<byte> name) => Errno.ENOSYS;

    /// <summary>
    /// RENAME and RENAME2: <paramref name="name"/> in <c>ctx.NodeId</c> becomes <paramref name="newName"/> in
    /// <paramref name="newParent"/>. A filesystem that does not support a flag returns EINVAL. Default: ENOSYS
    /// (after which the kernel fails every flagged rename with EINVAL).
    /// </summary>
    public virtual Errno Rename(in FuseContext ctx, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags) => Errno.ENOSYS;

    /// <summary>LINK: a new name <paramref name="newName"/> in <c>ctx.NodeId</c> for <paramref name="oldNodeId"/>; +1 lookup count. Default: ENOSYS.</summary>
    public virtual Errno Link(in FuseContext ctx, ulong oldNodeId, ReadOnlySpan<byte> newName, out EntryOut entry) { entry = default; return Errno.ENOSYS; }

    /// <summary>
    /// OPEN <c>ctx.NodeId</c> with Linux flags <c>input.Flags</c>. With ATOMIC_O_TRUNC negotiated (the default)
    /// O_TRUNC arrives here and the filesystem truncates. Default: ENOSYS, which a kernel that offers
    /// NO_OPEN_SUPPORT takes as "success, handle 0, for every open from now on".
    /// </summary>
    public virtual Errno Open(in FuseContext ctx, in OpenIn input, out OpenOut open) { open = default; return Errno.ENOSYS; }

    /// <summary>
    /// READ up to <c>data.Length</c> bytes (already limited to the request's size) at <c>input.Offset</c>
    /// into <paramref name="data"/>; set <paramref name="count"/>. A short count means end of file unless
    /// the open used DIRECT_IO. Default: ENOSYS.
    /// </summary>
    public virtual Errno Read(in FuseContext ctx, in ReadIn input, Span<byte> data, out int count) { count = 0; return Errno.ENOSYS; }

    /// <summary>WRITE <paramref name="data"/> at <c>input.Offset</c>; set <paramref name="written"/>. Default: ENOSYS.</summary>
    public virtual Errno Write(in FuseContext ctx, in WriteIn input, ReadOnlySpan<byte> data, out uint written) { written = 0; return Errno.ENOSYS; }

    /// <summary>STATFS. Default: OK with a zeroed reply whose name length is 255 and block size 512, as libfuse answers.</summary>
    public virtual Errno Statfs(in FuseContext ctx, out StatfsOut statfs)
    {
        statfs = default;
        statfs.St.Namelen = FuseKernel.NameMax;
        statfs.St.Bsize = 512;
        return Errno.OK;
    }

    /// <summary>RELEASE: the last close of handle <c>input.Fh</c>. The error is ignored by the kernel. Default: OK.</summary>
    public virtual Errno Release(in FuseContext ctx, in ReleaseIn input) => Errno.OK;

    /// <summary>FSYNC (bit 0 of <c>input.FsyncFlags</c>: data only). Default: ENOSYS (success from then on).</summary>
    public virtual Errno Fsync(in FuseContext ctx, in FsyncIn input) => Errno.ENOSYS;

    /// <summary>SETXATTR <paramref name="name"/> = <paramref name="value"/> (<c>input.Flags</c>: XATTR_CREATE/REPLACE). Default: ENOSYS (EOPNOTSUPP from then on).</summary>
    public virtual Errno Setxattr(in FuseContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, in SetxattrIn input) => Errno.ENOSYS;

    /// <summary>
    /// GETXATTR <paramref name="name"/>. If <paramref name="value"/> is empty this is a size query: set
    /// <paramref name="size"/> to the value's length and return OK. Otherwise copy the value and set
    /// <paramref name="size"/>, or return ERANGE if it does not fit; ENODATA if there is no such attribute.
    /// Default: ENOSYS (EOPNOTSUPP from then on).
    /// </summary>
    public virtual Errno Getxattr(in FuseContext ctx, ReadOnlySpan<byte> name, Span<byte> value, out int size) { size = 0; return Errno.ENOSYS; }

    /// <summary>LISTXATTR: NUL-terminated names, with the same size-query and ERANGE contract as <see cref="Getxattr"/>. Default: ENOSYS.</summary>
    public virtual Errno Listxattr(in FuseContext ctx, Span<byte> list, out int size) { size = 0; return Errno.ENOSYS; }

    /// <summary>REMOVEXATTR <paramref name="name"/>. Default: ENOSYS.</summary>
    public virtual Errno Removexattr(in FuseContext ctx, ReadOnlySpan<byte> name) => Errno.ENOSYS;

    /// <summary>FLUSH: a close(2) of a descriptor of handle <c>input.Fh</c>. Default: ENOSYS (success from then on).</summary>
    public virtual Errno Flush(in FuseContext ctx, in FlushIn input) => Errno.ENOSYS;

    /// <summary>OPENDIR <c>ctx.NodeId</c>. Default: ENOSYS (with NO_OPENDIR_SUPPORT: success, handle 0, from then on).</summary>
    public virtual Errno Opendir(in FuseContext ctx, in OpenIn input, out OpenOut open) { open = default; return Errno.ENOSYS; }

    /// <summary>
    /// READDIR from cookie <c>input.Offset</c> (0 = start): add entries to <paramref name="writer"/> until it
    /// refuses one; write none at the end. Default: ENOSYS.
    /// </summary>
    public virtual Errno Readdir(in FuseContext ctx, in ReadIn input, ref DirentWriter writer) => Errno.ENOSYS;

    /// <summary>
    /// READDIRPLUS: like <see cref="Readdir"/> with attributes (<see cref="DirentWriter.TryAddPlus"/>); each
    /// accepted record with a node id, except "." and "..", is +1 lookup count. Default: <see cref="Readdir"/>,
    /// whose records then carry no attributes (node id 0, no lookup counts).
    /// </summary>
    public virtual Errno Readdirplus(in FuseContext ctx, in ReadIn input, ref DirentWriter writer) => Readdir(in ctx, in input, ref writer);

    /// <summary>RELEASEDIR of handle <c>input.Fh</c>. Default: OK.</summary>
    public virtual Errno Releasedir(in FuseContext ctx, in ReleaseIn input) => Errno.OK;

    /// <summary>FSYNCDIR. Default: ENOSYS (success from then on).</summary>
    public virtual Errno Fsyncdir(in FuseContext ctx, in FsyncIn input) => Errno.ENOSYS;

    /// <summary>GETLK (only with POSIX_LOCKS). Default: ENOSYS.</summary>
    public virtual Errno Getlk(in FuseContext ctx, in LkIn input, out FuseFileLock lk) { lk = default; return Errno.ENOSYS; }

    /// <summary>SETLK / SETLKW (<paramref name="wait"/>; only with POSIX_LOCKS or FLOCK_LOCKS). Default: ENOSYS.</summary>
    public virtual Errno Setlk(in FuseContext ctx, in LkIn input, bool wait) => Errno.ENOSYS;

    /// <summary>ACCESS with mask R_OK/W_OK/X_OK/F_OK (sent only without default_permissions). Default: ENOSYS (allowed from then on).</summary>
    public virtual Errno Access(in FuseContext ctx, uint mask) => Errno.ENOSYS;

    /// <summary>CREATE and open <paramref name="name"/> in <c>ctx.NodeId</c>; +1 lookup count. Default: ENOSYS (the kernel uses MKNOD + OPEN from then on).</summary>
    public virtual Errno Create(in FuseContext ctx, ReadOnlySpan<byte> name, in CreateIn input, out EntryOut entry, out OpenOut open)
    {
        entry = default; open = default; return Errno.ENOSYS;
    }

    /// <summary>FALLOCATE. Default: ENOSYS (EOPNOTSUPP from then on).</summary>
    public virtual Errno Fallocate(in FuseContext ctx, in FallocateIn input) => Errno.ENOSYS;

    /// <summary>LSEEK with SEEK_DATA / SEEK_HOLE. Default: ENOSYS (generic seek from then on).</summary>
    public virtual Errno Lseek(in FuseContext ctx, in LseekIn input, out long offset) { offset = 0; return Errno.ENOSYS; }

    /// <summary>COPY_FILE_RANGE and COPY_FILE_RANGE_64 from <c>ctx.NodeId</c>. Default: ENOSYS (the VFS copies instead).</summary>
    public virtual Errno CopyFileRange(in FuseContext ctx, in CopyFileRangeIn input, out ulong copied) { copied = 0; return Errno.ENOSYS; }

    /// <summary>SYNCFS. Default: ENOSYS.</summary>
    public virtual Errno Syncfs(in FuseContext ctx) => Errno.ENOSYS;

    /// <summary>TMPFILE: an unnamed file in <c>ctx.NodeId</c>, opened; +1 lookup count. Default: ENOSYS.</summary>
    public virtual Errno Tmpfile(in FuseContext ctx, in CreateIn input, out EntryOut entry, out OpenOut open)
    {
        entry = default; open = default; return Errno.ENOSYS;
    }

    /// <summary>STATX. Default: ENOSYS (the kernel uses GETATTR from then on).</summary>
    public virtual Errno Statx(in FuseContext ctx, in StatxIn input, out StatxOut statx) { statx = default; return Errno.ENOSYS; }
}
