// Constants of the FUSE kernel protocol, protocol 7.45 (linux/fuse.h, libfuse include/fuse_kernel.h).
// Names are the C names in PascalCase without the FUSE_ prefix; values are the kernel's.
// A test compiles a C program against /usr/include/linux/fuse.h and compares what that header has.
namespace Hurd.Fuse.Abi;

/// <summary>Protocol version and fixed numbers of the FUSE kernel interface.</summary>
public static class FuseKernel
{
    /// <summary>The major protocol version we speak (FUSE_KERNEL_VERSION).</summary>
    public const uint Major = 7;
    /// <summary>The highest minor protocol version we speak (FUSE_KERNEL_MINOR_VERSION of 7.45).</summary>
    public const uint Minor = 45;
    /// <summary>The root directory's node id (FUSE_ROOT_ID).</summary>
    public const ulong RootId = 1;
    /// <summary>The smallest read buffer the kernel accepts (FUSE_MIN_READ_BUFFER).</summary>
    public const int MinReadBuffer = 8192;
    /// <summary>Bit set in an INTERRUPT request's unique (FUSE_INT_REQ_BIT).</summary>
    public const ulong InterruptRequestBit = 1;
    /// <summary>Bit 63 of a unique marks a resent request (FUSE_UNIQUE_RESEND, 7.40).</summary>
    public const ulong UniqueResend = 1UL << 63;
    /// <summary>entry_out size before 7.9 (FUSE_COMPAT_ENTRY_OUT_SIZE).</summary>
    public const int CompatEntryOutSize = 120;
    /// <summary>attr_out size before 7.9 (FUSE_COMPAT_ATTR_OUT_SIZE).</summary>
    public const int CompatAttrOutSize = 96;
    /// <summary>init_out size before 7.5 (FUSE_COMPAT_INIT_OUT_SIZE).</summary>
    public const int CompatInitOutSize = 8;
    /// <summary>init_out size before 7.23 (FUSE_COMPAT_22_INIT_OUT_SIZE).</summary>
    public const int Compat22InitOutSize = 24;
    /// <summary>statfs_out size before 7.4 (FUSE_COMPAT_STATFS_SIZE).</summary>
    public const int CompatStatfsSize = 48;
    /// <summary>write_in size before 7.9 (FUSE_COMPAT_WRITE_IN_SIZE).</summary>
    public const int CompatWriteInSize = 24;
    /// <summary>mknod_in size before 7.12 (FUSE_COMPAT_MKNOD_IN_SIZE).</summary>
    public const int CompatMknodInSize = 8;
    /// <summary>setxattr_in size without SETXATTR_EXT (FUSE_COMPAT_SETXATTR_IN_SIZE).</summary>
    public const int CompatSetxattrInSize = 8;
    /// <summary>Longest file name component this layer accepts (NAME_MAX); longer names get ENAMETOOLONG.</summary>
    public const int NameMax = 255;
    /// <summary>Longest extended attribute name (XATTR_NAME_MAX); longer names get ERANGE.</summary>
    public const int XattrNameMax = 255;
    /// <summary>Largest extended attribute value (XATTR_SIZE_MAX); larger values get E2BIG.</summary>
    public const int XattrSizeMax = 65536;
    /// <summary>ioctl(2) request that attaches a fresh /dev/fuse descriptor to an existing connection (FUSE_DEV_IOC_CLONE = _IOR(229, 0, uint32_t)).</summary>
    public const uint DevIocClone = 0x8004E500;
    /// <summary>Extension type of the supplementary groups extension (FUSE_EXT_GROUPS).</summary>
    public const uint ExtGroups = 32;
    /// <summary>Largest security-context extension type (FUSE_MAX_NR_SECCTX).</summary>
    public const uint MaxNrSecctx = 31;
}

/// <summary>Request opcodes (enum fuse_opcode).</summary>
public enum FuseOpcode : uint
{
    /// <summary>Look up a name in a directory; +1 lookup count.</summary>
    Lookup = 1,
    /// <summary>Drop lookup counts; never answered.</summary>
    Forget = 2,
    /// <summary>Get attributes.</summary>
    Getattr = 3,
    /// <summary>Set attributes (chmod, chown, truncate, utimens).</summary>
    Setattr = 4,
    /// <summary>Read a symlink's target.</summary>
    Readlink = 5,
    /// <summary>Make a symlink; +1 lookup count.</summary>
    Symlink = 6,
    /// <summary>Make a node; +1 lookup count.</summary>
    Mknod = 8,
    /// <summary>Make a directory; +1 lookup count.</summary>
    Mkdir = 9,
    /// <summary>Remove a non-directory.</summary>
    Unlink = 10,
    /// <summary>Remove a directory.</summary>
    Rmdir = 11,
    /// <summary>Rename without flags.</summary>
    Rename = 12,
    /// <summary>Make a hard link; +1 lookup count.</summary>
    Link = 13,
    /// <summary>Open a file.</summary>
    Open = 14,
    /// <summary>Read from an open file.</summary>
    Read = 15,
    /// <summary>Write to an open file.</summary>
    Write = 16,
    /// <summary>Filesystem statistics.</summary>
    Statfs = 17,
    /// <summary>Last close of an open file.</summary>
    Release = 18,
    /// <summary>Sync a file.</summary>
    Fsync = 20,
    /// <summary>Set an extended attribute.</summary>
    Setxattr = 21,
    /// <summary>Get an extended attribute.</summary>
    Getxattr = 22,
    /// <summary>List extended attributes.</summary>
    Listxattr = 23,
    /// <summary>Remove an extended attribute.</summary>
    Removexattr = 24,
    /// <summary>A close(2) of a descriptor.</summary>
    Flush = 25,
    /// <summary>Protocol negotiation, the first request.</summary>
    Init = 26,
    /// <summary>Open a directory.</summary>
    Opendir = 27,
    /// <summary>Read directory entries.</summary>
    Readdir = 28,
    /// <summary>Last close of an open directory.</summary>
    Releasedir = 29,
    /// <summary>Sync a directory.</summary>
    Fsyncdir = 30,
    /// <summary>Test a POSIX lock.</summary>
    Getlk = 31,
    /// <summary>Set a POSIX lock.</summary>
    Setlk = 32,
    /// <summary>Set a POSIX lock, waiting.</summary>
    Setlkw = 33,
    /// <summary>Check access (only without default_permissions).</summary>
    Access = 34,
    /// <summary>Create and open a file; +1 lookup count.</summary>
    Create = 35,
    /// <summary>Interrupt an earlier request.</summary>
    Interrupt = 36,
    /// <summary>Map a block (fuseblk only).</summary>
    Bmap = 37,
    /// <summary>Connection ends (fuseblk and virtiofs only in practice).</summary>
    Destroy = 38,
    /// <summary>ioctl(2).</summary>
    Ioctl = 39,
    /// <summary>poll(2).</summary>
    Poll = 40,
    /// <summary>Data for a RETRIEVE notification; never answered.</summary>
    NotifyReply = 41,
    /// <summary>Drop many lookup counts; never answered.</summary>
    BatchForget = 42,
    /// <summary>fallocate(2).</summary>
    Fallocate = 43,
    /// <summary>Read directory entries with their attributes; +1 lookup count per entry except "." and "..".</summary>
    Readdirplus = 44,
    /// <summary>Rename with flags (NOREPLACE, EXCHANGE, WHITEOUT).</summary>
    Rename2 = 45,
    /// <summary>lseek(2) with SEEK_DATA/SEEK_HOLE.</summary>
    Lseek = 46,
    /// <summary>copy_file_range(2), 32-bit result.</summary>
    CopyFileRange = 47,
    /// <summary>DAX mapping (virtiofs).</summary>
    Setupmapping = 48,
    /// <summary>DAX unmapping (virtiofs).</summary>
    Removemapping = 49,
    /// <summary>syncfs(2).</summary>
    Syncfs = 50,
    /// <summary>O_TMPFILE open.</summary>
    Tmpfile = 51,
    /// <summary>statx(2) (7.39).</summary>
    Statx = 52,
    /// <summary>copy_file_range(2), 64-bit result (7.45).</summary>
    CopyFileRange64 = 53,
    /// <summary>CUSE negotiation.</summary>
    CuseInit = 4096,
}

/// <summary>INIT capability flags, 64 bits: the upper half travels in flags2 and only with <see cref="InitExt"/>.</summary>
[Flags]
public enum InitFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>Asynchronous read requests (FUSE_ASYNC_READ).</summary>
    AsyncRead = 1UL << 0,
    /// <summary>Remote POSIX locks (FUSE_POSIX_LOCKS).</summary>
    PosixLocks = 1UL << 1,
    /// <summary>File handles in fstat (FUSE_FILE_OPS).</summary>
    FileOps = 1UL << 2,
    /// <summary>O_TRUNC handled by OPEN (FUSE_ATOMIC_O_TRUNC).</summary>
    AtomicOTrunc = 1UL << 3,
    /// <summary>"." and ".." lookups for NFS export (FUSE_EXPORT_SUPPORT).</summary>
    ExportSupport = 1UL << 4,
    /// <summary>Writes larger than 4 KiB (FUSE_BIG_WRITES).</summary>
    BigWrites = 1UL << 5,
    /// <summary>The kernel does not apply umask (FUSE_DONT_MASK).</summary>
    DontMask = 1UL << 6,
    /// <summary>FUSE_SPLICE_WRITE.</summary>
    SpliceWrite = 1UL << 7,
    /// <summary>FUSE_SPLICE_MOVE.</summary>
    SpliceMove = 1UL << 8,
    /// <summary>FUSE_SPLICE_READ.</summary>
    SpliceRead = 1UL << 9,
    /// <summary>Remote flock locks (FUSE_FLOCK_LOCKS).</summary>
    FlockLocks = 1UL << 10,
    /// <summary>ioctl on directories (FUSE_HAS_IOCTL_DIR).</summary>
    HasIoctlDir = 1UL << 11,
    /// <summary>Invalidate cached pages when mtime/size change (FUSE_AUTO_INVAL_DATA).</summary>
    AutoInvalData = 1UL << 12,
    /// <summary>READDIRPLUS (FUSE_DO_READDIRPLUS).</summary>
    DoReaddirplus = 1UL << 13,
    /// <summary>Adaptive READDIRPLUS (FUSE_READDIRPLUS_AUTO).</summary>
    ReaddirplusAuto = 1UL << 14,
    /// <summary>Asynchronous direct I/O (FUSE_ASYNC_DIO).</summary>
    AsyncDio = 1UL << 15,
    /// <summary>Writeback cache (FUSE_WRITEBACK_CACHE).</summary>
    WritebackCache = 1UL << 16,
    /// <summary>OPEN may answer ENOSYS meaning success (FUSE_NO_OPEN_SUPPORT).</summary>
    NoOpenSupport = 1UL << 17,
    /// <summary>Parallel lookups and readdir in one directory (FUSE_PARALLEL_DIROPS).</summary>
    ParallelDirops = 1UL << 18,
    /// <summary>The fs clears suid/sgid on write/chown/truncate (FUSE_HANDLE_KILLPRIV).</summary>
    HandleKillpriv = 1UL << 19,
    /// <summary>POSIX ACLs (FUSE_POSIX_ACL).</summary>
    PosixAcl = 1UL << 20,
    /// <summary>read() returns ECONNABORTED after an abort (FUSE_ABORT_ERROR).</summary>
    AbortError = 1UL << 21,
    /// <summary>init_out.max_pages is valid (FUSE_MAX_PAGES).</summary>
    MaxPages = 1UL << 22,
    /// <summary>Cache READLINK replies (FUSE_CACHE_SYMLINKS).</summary>
    CacheSymlinks = 1UL << 23,
    /// <summary>OPENDIR may answer ENOSYS meaning success (FUSE_NO_OPENDIR_SUPPORT).</summary>
    NoOpendirSupport = 1UL << 24,
    /// <summary>Only explicit data invalidation (FUSE_EXPLICIT_INVAL_DATA).</summary>
    ExplicitInvalData = 1UL << 25,
    /// <summary>init_out.map_alignment is valid (FUSE_MAP_ALIGNMENT).</summary>
    MapAlignment = 1UL << 26,
    /// <summary>Submounts (FUSE_SUBMOUNTS).</summary>
    Submounts = 1UL << 27,
    /// <summary>FUSE_HANDLE_KILLPRIV_V2.</summary>
    HandleKillprivV2 = 1UL << 28,
    /// <summary>Extended setxattr_in (FUSE_SETXATTR_EXT).</summary>
    SetxattrExt = 1UL << 29,
    /// <summary>flags2 is valid (FUSE_INIT_EXT).</summary>
    InitExt = 1UL << 30,
    /// <summary>Reserved (FUSE_INIT_RESERVED).</summary>
    InitReserved = 1UL << 31,
    /// <summary>Security context extension on create requests (FUSE_SECURITY_CTX).</summary>
    SecurityCtx = 1UL << 32,
    /// <summary>Per-inode DAX (FUSE_HAS_INODE_DAX).</summary>
    HasInodeDax = 1UL << 33,
    /// <summary>Supplementary group extension on create requests (FUSE_CREATE_SUPP_GROUP).</summary>
    CreateSuppGroup = 1UL << 34,
    /// <summary>INVAL_ENTRY with EXPIRE_ONLY (FUSE_HAS_EXPIRE_ONLY).</summary>
    HasExpireOnly = 1UL << 35,
    /// <summary>mmap of DIRECT_IO files (FUSE_DIRECT_IO_ALLOW_MMAP).</summary>
    DirectIoAllowMmap = 1UL << 36,
    /// <summary>Passthrough to a backing file (FUSE_PASSTHROUGH).</summary>
    Passthrough = 1UL << 37,
    /// <summary>No NFS export (FUSE_NO_EXPORT_SUPPORT).</summary>
    NoExportSupport = 1UL << 38,
    /// <summary>The kernel may resend requests (FUSE_HAS_RESEND).</summary>
    HasResend = 1UL << 39,
    /// <summary>Idmapped mounts (FUSE_ALLOW_IDMAP).</summary>
    AllowIdmap = 1UL << 40,
    /// <summary>io_uring transport (FUSE_OVER_IO_URING).</summary>
    OverIoUring = 1UL << 41,
    /// <summary>init_out.request_timeout is valid (FUSE_REQUEST_TIMEOUT).</summary>
    RequestTimeout = 1UL << 42,
}

/// <summary>Notification codes, written with unique 0 and the code in the error field (enum fuse_notify_code).</summary>
public enum NotifyCode : int
{
    /// <summary>Poll wakeup.</summary>
    Poll = 1,
    /// <summary>Invalidate an inode's attributes and/or data.</summary>
    InvalInode = 2,
    /// <summary>Invalidate a directory entry.</summary>
    InvalEntry = 3,
    /// <summary>Push data into the page cache.</summary>
    Store = 4,
    /// <summary>Pull data from the page cache.</summary>
    Retrieve = 5,
    /// <summary>A directory entry was deleted (also fires inotify).</summary>
    Delete = 6,
    /// <summary>Ask the kernel to resend pending requests (7.41).</summary>
    Resend = 7,
    /// <summary>Increase the connection epoch (7.44).</summary>
    IncEpoch = 8,
    /// <summary>Drop unused nodes (7.45).</summary>
    Prune = 9,
}

/// <summary>setattr_in.valid bits (FATTR_*).</summary>
[Flags]
public enum SetattrValid : uint
{
    /// <summary>No field.</summary>
    None = 0,
    /// <summary>mode is valid.</summary>
    Mode = 1 << 0,
    /// <summary>uid is valid.</summary>
    Uid = 1 << 1,
    /// <summary>gid is valid.</summary>
    Gid = 1 << 2,
    /// <summary>size is valid (truncate).</summary>
    Size = 1 << 3,
    /// <summary>atime is valid.</summary>
    Atime = 1 << 4,
    /// <summary>mtime is valid.</summary>
    Mtime = 1 << 5,
    /// <summary>fh is valid.</summary>
    Fh = 1 << 6,
    /// <summary>Set atime to now.</summary>
    AtimeNow = 1 << 7,
    /// <summary>Set mtime to now.</summary>
    MtimeNow = 1 << 8,
    /// <summary>lock_owner is valid.</summary>
    LockOwner = 1 << 9,
    /// <summary>ctime is valid.</summary>
    Ctime = 1 << 10,
    /// <summary>Clear suid/sgid (with HANDLE_KILLPRIV_V2).</summary>
    KillSuidgid = 1 << 11,
}

/// <summary>open_out.open_flags bits (FOPEN_*).</summary>
[Flags]
public enum OpenReplyFlags : uint
{
    /// <summary>No flags: the page cache is used and dropped at open.</summary>
    None = 0,
    /// <summary>Bypass the page cache.</summary>
    DirectIo = 1 << 0,
    /// <summary>Keep cached pages across opens.</summary>
    KeepCache = 1 << 1,
    /// <summary>Not seekable.</summary>
    NonSeekable = 1 << 2,
    /// <summary>Cache readdir results.</summary>
    CacheDir = 1 << 3,
    /// <summary>A stream: no file position.</summary>
    Stream = 1 << 4,
    /// <summary>No FLUSH on close.</summary>
    NoFlush = 1 << 5,
    /// <summary>Parallel direct writes.</summary>
    ParallelDirectWrites = 1 << 6,
    /// <summary>Reads and writes go to open_out.backing_id (7.40).</summary>
    Passthrough = 1 << 7,
}

/// <summary>rename2 flags (RENAME_* of renameat2(2)).</summary>
[Flags]
public enum RenameFlags : uint
{
    /// <summary>Plain rename.</summary>
    None = 0,
    /// <summary>Fail with EEXIST if the target exists.</summary>
    NoReplace = 1,
    /// <summary>Swap source and target.</summary>
    Exchange = 2,
    /// <summary>Leave a whiteout.</summary>
    Whiteout = 4,
}

/// <summary>Directory entry type, as in dirent.d_type (DT_*): the file type bits of the mode shifted right by 12.</summary>
public enum DirentType : uint
{
    /// <summary>Unknown.</summary>
    Unknown = 0,
    /// <summary>FIFO.</summary>
    Fifo = 1,
    /// <summary>Character device.</summary>
    CharDevice = 2,
    /// <summary>Directory.</summary>
    Directory = 4,
    /// <summary>Block device.</summary>
    BlockDevice = 6,
    /// <summary>Regular file.</summary>
    Regular = 8,
    /// <summary>Symbolic link.</summary>
    Symlink = 10,
    /// <summary>Socket.</summary>
    Socket = 12,
}
