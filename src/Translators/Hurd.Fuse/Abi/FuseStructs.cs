// The wire structs of the FUSE kernel protocol 7.45, blittable, in the kernel's layout.
// Field names are the C names of linux/fuse.h in PascalCase; their meanings are the header's
// (and the table in docs/architecture.md, "FUSE protocol layer"). A test compares every size
// and offset with the C header on the machine for the structs and fields that header has.
#pragma warning disable CS1591 // members mirror linux/fuse.h one to one; the header documents them
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse.Abi;

/// <summary>struct fuse_in_header (40 bytes): starts every request.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public uint Len;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    /// <summary>Length of the trailing extensions in 8-byte units.</summary>
    public ushort TotalExtlen;
    public ushort Padding;
}

/// <summary>struct fuse_out_header (16 bytes): starts every reply and notification.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOutHeader
{
    public uint Len;
    /// <summary>0 or a negated errno in (-512, 0]; for a notification the <see cref="NotifyCode"/>.</summary>
    public int Error;
    public ulong Unique;
}

/// <summary>struct fuse_attr (88 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseAttr
{
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint Atimensec;
    public uint Mtimensec;
    public uint Ctimensec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint Blksize;
    public uint Flags;

    /// <summary>Fills the attributes from a <see cref="Stat"/>; the Hurd's translator mode bits are dropped.</summary>
    public void SetFrom(in Stat st)
    {
        Ino = st.Ino; Size = (ulong)st.Size; Blocks = (ulong)st.Blocks;
        Atime = (ulong)st.Atime.Sec; Atimensec = (uint)st.Atime.Nsec;
        Mtime = (ulong)st.Mtime.Sec; Mtimensec = (uint)st.Mtime.Nsec;
        Ctime = (ulong)st.Ctime.Sec; Ctimensec = (uint)st.Ctime.Nsec;
        Mode = st.Mode.ToPosix(); Nlink = st.Nlink; Uid = st.Uid; Gid = st.Gid;
        Rdev = (uint)st.Rdev; Blksize = (uint)st.Blksize; Flags = 0;
    }
}

/// <summary>struct fuse_kstatfs (80 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseKstatfs
{
    public ulong Blocks;
    public ulong Bfree;
    public ulong Bavail;
    public ulong Files;
    public ulong Ffree;
    public uint Bsize;
    public uint Namelen;
    public uint Frsize;
    public uint Padding;
    public fixed uint Spare[6];
}

/// <summary>struct fuse_file_lock (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseFileLock
{
    public ulong Start;
    public ulong End;
    public uint Type;
    public uint Pid;
}

/// <summary>struct fuse_entry_out (128 bytes): the reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK and the first half of CREATE's.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct EntryOut
{
    /// <summary>The kernel's name for the node; 0 with EntryValid &gt; 0 is a cached negative entry.</summary>
    public ulong NodeId;
    /// <summary>(NodeId, Generation) must be unique for the filesystem's lifetime.</summary>
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;

    /// <summary>Sets how long the kernel may cache the name and the attributes.</summary>
    public void SetTimeouts(TimeSpan entry, TimeSpan attr)
    {
        (EntryValid, EntryValidNsec) = Split(entry);
        (AttrValid, AttrValidNsec) = Split(attr);
    }

    internal static (ulong, uint) Split(TimeSpan t) =>
        t <= TimeSpan.Zero ? (0UL, 0U) : ((ulong)(t.Ticks / TimeSpan.TicksPerSecond), (uint)(t.Ticks % TimeSpan.TicksPerSecond * 100));
}

/// <summary>struct fuse_forget_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ForgetIn
{
    public ulong Nlookup;
}

/// <summary>struct fuse_forget_one (16 bytes): one entry of BATCH_FORGET.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ForgetOne
{
    public ulong NodeId;
    public ulong Nlookup;
}

/// <summary>struct fuse_batch_forget_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BatchForgetIn
{
    public uint Count;
    public uint Dummy;
}

/// <summary>struct fuse_getattr_in (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetattrIn
{
    /// <summary>Bit 0 (FUSE_GETATTR_FH): <see cref="Fh"/> is valid.</summary>
    public uint GetattrFlags;
    public uint Dummy;
    public ulong Fh;
}

/// <summary>struct fuse_attr_out (104 bytes): the reply to GETATTR and SETATTR.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;

    /// <summary>Sets how long the kernel may cache the attributes.</summary>
    public void SetTimeout(TimeSpan attr) => (AttrValid, AttrValidNsec) = EntryOut.Split(attr);
}

/// <summary>struct fuse_mknod_in (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MknodIn
{
    public uint Mode;
    public uint Rdev;
    public uint Umask;
    public uint Padding;
}

/// <summary>struct fuse_mkdir_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MkdirIn
{
    public uint Mode;
    public uint Umask;
}

/// <summary>struct fuse_rename_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RenameIn
{
    public ulong Newdir;
}

/// <summary>struct fuse_rename2_in (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Rename2In
{
    public ulong Newdir;
    public RenameFlags Flags;
    public uint Padding;
}

/// <summary>struct fuse_link_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LinkIn
{
    public ulong Oldnodeid;
}

/// <summary>struct fuse_setattr_in (88 bytes): <see cref="Valid"/> says which fields are meaningful.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SetattrIn
{
    public SetattrValid Valid;
    public uint Padding;
    public ulong Fh;
    public ulong Size;
    public ulong LockOwner;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint Atimensec;
    public uint Mtimensec;
    public uint Ctimensec;
    public uint Mode;
    public uint Unused4;
    public uint Uid;
    public uint Gid;
    public uint Unused5;
}

/// <summary>struct fuse_open_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenIn
{
    /// <summary>Linux open(2) flags (O_*), without O_CREAT/O_EXCL/O_NOCTTY.</summary>
    public int Flags;
    /// <summary>FUSE_OPEN_KILL_SUIDGID.</summary>
    public uint OpenFlags;
}

/// <summary>struct fuse_create_in (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CreateIn
{
    public int Flags;
    public uint Mode;
    public uint Umask;
    public uint OpenFlags;
}

/// <summary>struct fuse_open_out (16 bytes): the reply to OPEN, OPENDIR and the second half of CREATE's.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenOut
{
    /// <summary>The file handle: an opaque number the kernel hands back in every request on this open.</summary>
    public ulong Fh;
    public OpenReplyFlags OpenFlags;
    /// <summary>With <see cref="OpenReplyFlags.Passthrough"/>: the backing id (7.40; "padding" before).</summary>
    public int BackingId;
}

/// <summary>struct fuse_release_in (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ReleaseIn
{
    public ulong Fh;
    public int Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}

/// <summary>struct fuse_flush_in (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlushIn
{
    public ulong Fh;
    public uint Unused;
    public uint Padding;
    public ulong LockOwner;
}

/// <summary>struct fuse_read_in (40 bytes): READ, READDIR, READDIRPLUS.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ReadIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public int Flags;
    public uint Padding;
}

/// <summary>struct fuse_write_in (40 bytes): followed by the data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WriteIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint WriteFlags;
    public ulong LockOwner;
    public int Flags;
    public uint Padding;
}

/// <summary>struct fuse_write_out (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WriteOut
{
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_statfs_out (80 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StatfsOut
{
    public FuseKstatfs St;
}

/// <summary>struct fuse_fsync_in (16 bytes): FSYNC and FSYNCDIR.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FsyncIn
{
    public ulong Fh;
    /// <summary>Bit 0 (FUSE_FSYNC_FDATASYNC): sync data only.</summary>
    public uint FsyncFlags;
    public uint Padding;
}

/// <summary>struct fuse_setxattr_in (16 bytes; 8 without SETXATTR_EXT).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SetxattrIn
{
    public uint Size;
    public int Flags;
    public uint SetxattrFlags;
    public uint Padding;
}

/// <summary>struct fuse_getxattr_in (8 bytes): GETXATTR and LISTXATTR.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetxattrIn
{
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_getxattr_out (8 bytes): the reply to a size query (size 0).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetxattrOut
{
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_lk_in (48 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LkIn
{
    public ulong Fh;
    public ulong Owner;
    public FuseFileLock Lk;
    public uint LkFlags;
    public uint Padding;
}

/// <summary>struct fuse_lk_out (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LkOut
{
    public FuseFileLock Lk;
}

/// <summary>struct fuse_access_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AccessIn
{
    public uint Mask;
    public uint Padding;
}

/// <summary>struct fuse_init_in (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct InitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
    public fixed uint Unused[11];
}

/// <summary>struct fuse_init_out (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct InitOut
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public uint MaxStackDepth;
    public ushort RequestTimeout;
    public fixed ushort Unused[11];
}

/// <summary>struct cuse_init_in (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint Unused;
    public uint Flags;
}

/// <summary>struct cuse_init_out (72 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct CuseInitOut
{
    public uint Major;
    public uint Minor;
    public uint Unused;
    public uint Flags;
    public uint MaxRead;
    public uint MaxWrite;
    public uint DevMajor;
    public uint DevMinor;
    public fixed uint Spare[10];
}

/// <summary>struct fuse_interrupt_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct InterruptIn
{
    public ulong Unique;
}

/// <summary>struct fuse_bmap_in (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BmapIn
{
    public ulong Block;
    public uint Blocksize;
    public uint Padding;
}

/// <summary>struct fuse_bmap_out (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BmapOut
{
    public ulong Block;
}

/// <summary>struct fuse_ioctl_in (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoctlIn
{
    public ulong Fh;
    public uint Flags;
    public uint Cmd;
    public ulong Arg;
    public uint InSize;
    public uint OutSize;
}

/// <summary>struct fuse_ioctl_iovec (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoctlIovec
{
    public ulong Base;
    public ulong Len;
}

/// <summary>struct fuse_ioctl_out (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoctlOut
{
    public int Result;
    public uint Flags;
    public uint InIovs;
    public uint OutIovs;
}

/// <summary>struct fuse_poll_in (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollIn
{
    public ulong Fh;
    public ulong Kh;
    public uint Flags;
    public uint Events;
}

/// <summary>struct fuse_poll_out (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollOut
{
    public uint Revents;
    public uint Padding;
}

/// <summary>struct fuse_notify_poll_wakeup_out (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyPollWakeupOut
{
    public ulong Kh;
}

/// <summary>struct fuse_fallocate_in (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FallocateIn
{
    public ulong Fh;
    public ulong Offset;
    public ulong Length;
    public int Mode;
    public uint Padding;
}

/// <summary>struct fuse_dirent without its name (24 bytes): a READDIR record is this, the name, and zero padding to 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseDirent
{
    public ulong Ino;
    /// <summary>The cookie to resume after this entry.</summary>
    public ulong Off;
    public uint Namelen;
    public DirentType Type;
}

/// <summary>struct fuse_direntplus without its name (152 bytes): a READDIRPLUS record.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseDirentplus
{
    public EntryOut EntryOut;
    public FuseDirent Dirent;
}

/// <summary>struct fuse_notify_inval_inode_out (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyInvalInodeOut
{
    public ulong Ino;
    /// <summary>Negative: attributes only.</summary>
    public long Off;
    /// <summary>0: to the end of the file.</summary>
    public long Len;
}

/// <summary>struct fuse_notify_inval_entry_out (16 bytes): followed by the name and a NUL.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyInvalEntryOut
{
    public ulong Parent;
    public uint Namelen;
    /// <summary>Bit 0 (FUSE_EXPIRE_ONLY): expire, do not drop.</summary>
    public uint Flags;
}

/// <summary>struct fuse_notify_delete_out (24 bytes): followed by the name and a NUL.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyDeleteOut
{
    public ulong Parent;
    public ulong Child;
    public uint Namelen;
    public uint Padding;
}

/// <summary>struct fuse_notify_store_out (24 bytes): followed by the data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyStoreOut
{
    public ulong Nodeid;
    public ulong Offset;
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_notify_retrieve_out (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyRetrieveOut
{
    public ulong NotifyUnique;
    public ulong Nodeid;
    public ulong Offset;
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_notify_retrieve_in (40 bytes): NOTIFY_REPLY's body.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyRetrieveIn
{
    public ulong Dummy1;
    public ulong Offset;
    public uint Size;
    public uint Dummy2;
    public ulong Dummy3;
    public ulong Dummy4;
}

/// <summary>struct fuse_notify_prune_out (16 bytes, 7.45): followed by Count node ids.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyPruneOut
{
    public uint Count;
    public uint Padding;
    public ulong Spare;
}

/// <summary>struct fuse_backing_map (16 bytes): FUSE_DEV_IOC_BACKING_OPEN's argument (7.40).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BackingMap
{
    public int Fd;
    public uint Flags;
    public ulong Padding;
}

/// <summary>struct fuse_lseek_in (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LseekIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Whence;
    public uint Padding;
}

/// <summary>struct fuse_lseek_out (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LseekOut
{
    public ulong Offset;
}

/// <summary>struct fuse_copy_file_range_in (56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CopyFileRangeIn
{
    public ulong FhIn;
    public ulong OffIn;
    public ulong NodeidOut;
    public ulong FhOut;
    public ulong OffOut;
    public ulong Len;
    public ulong Flags;
}

/// <summary>struct fuse_copy_file_range_out (8 bytes, 7.45): COPY_FILE_RANGE_64's reply.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CopyFileRangeOut
{
    public ulong BytesCopied;
}

/// <summary>struct fuse_setupmapping_in (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SetupmappingIn
{
    public ulong Fh;
    public ulong Foffset;
    public ulong Len;
    public ulong Flags;
    public ulong Moffset;
}

/// <summary>struct fuse_removemapping_in (4 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RemovemappingIn
{
    public uint Count;
}

/// <summary>struct fuse_removemapping_one (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RemovemappingOne
{
    public ulong Moffset;
    public ulong Len;
}

/// <summary>struct fuse_syncfs_in (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SyncfsIn
{
    public ulong Padding;
}

/// <summary>struct fuse_secctx (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Secctx
{
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_secctx_header (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SecctxHeader
{
    public uint Size;
    public uint NrSecctx;
}

/// <summary>struct fuse_ext_header (8 bytes): starts each request extension; Size includes it and is a multiple of 8.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ExtHeader
{
    public uint Size;
    public uint Type;
}

/// <summary>struct fuse_supp_groups without its array (4 bytes): NrGroups u32 gids follow.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SuppGroups
{
    public uint NrGroups;
}

/// <summary>struct fuse_sx_time (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SxTime
{
    public long TvSec;
    public uint TvNsec;
    public int Reserved;
}

/// <summary>struct fuse_statx (256 bytes, 7.39).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseStatx
{
    public uint Mask;
    public uint Blksize;
    public ulong Attributes;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public ushort Mode;
    public ushort Spare0;
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong AttributesMask;
    public SxTime Atime;
    public SxTime Btime;
    public SxTime Ctime;
    public SxTime Mtime;
    public uint RdevMajor;
    public uint RdevMinor;
    public uint DevMajor;
    public uint DevMinor;
    public fixed ulong Spare2[14];
}

/// <summary>struct fuse_statx_in (24 bytes, 7.39).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StatxIn
{
    public uint GetattrFlags;
    public uint Reserved;
    public ulong Fh;
    public uint SxFlags;
    public uint SxMask;
}

/// <summary>struct fuse_statx_out (288 bytes, 7.39).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct StatxOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Flags;
    public fixed ulong Spare[2];
    public FuseStatx Stat;
}

/// <summary>Sizes of the wire structs, as the kernel expects them.</summary>
public static class FuseSizes
{
    /// <summary>sizeof(struct fuse_in_header).</summary>
    public static int InHeader => Unsafe.SizeOf<FuseInHeader>();
    /// <summary>sizeof(struct fuse_out_header).</summary>
    public static int OutHeader => Unsafe.SizeOf<FuseOutHeader>();
}
