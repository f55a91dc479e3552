using Hurd.Ipc.Abi;

namespace Hurd.Translators;

// Optional node operations. A node implements the ones it supports; the SDK checks
// `node is IXxx` and otherwise applies the default stated at the end of each summary.
// The SDK has already checked permissions and validated arguments before it calls any of them.

/// <summary>io_stat: the node's attributes.</summary>
/// <remarks>The SDK pre-fills the stat (st_ino = <see cref="Node.Ino"/>, st_gen, st_nlink 1,
/// st_blksize 4096, and a mode: 0555 directory if the node is an <see cref="IDirectory"/>, else 0444 regular,
/// owner root) and adds the translator bits afterwards. Change what differs.
/// If not implemented: the pre-filled values.</remarks>
public interface IStatable
{
    /// <summary>Fills <paramref name="st"/>. Must not block on I/O for long: permission checks call it.</summary>
    Errno Stat(Protid who, ref Stat st);
}

/// <summary>io_read.</summary>
/// <remarks>If not implemented: EISDIR for a directory, else EOPNOTSUPP.</remarks>
public interface IReadable
{
    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> (≥ 0); 0 bytes at or beyond end of file.
    /// Holes read as zeros.</summary>
    Errno Read(OpenFile file, long offset, Span<byte> buffer, out int read);
}

/// <summary>io_write.</summary>
/// <remarks>If not implemented: EISDIR for a directory, else EOPNOTSUPP.</remarks>
public interface IWritable
{
    /// <summary>The offset argument that means "at the current end of file, atomically" (O_APPEND).</summary>
    public const long AppendOffset = -1;

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> (≥ 0, or <see cref="AppendOffset"/>), growing the
    /// file as needed, and updates mtime and ctime when anything is written. <paramref name="end"/> is the offset just
    /// past the last byte written. A short write is allowed when space runs out (ENOSPC only if nothing was written);
    /// EFBIG when the offset is at or beyond the filesystem's maximum file size.</summary>
    Errno Write(OpenFile file, long offset, ReadOnlySpan<byte> data, out int written, out long end);
}

/// <summary>file_set_size (truncate/ftruncate): sets the size, zero-filling when growing; updates mtime and ctime when
/// the size changes. Called at the same size too (what that does is the filesystem's: Linux's tmpfs drops pages
/// fallocated past the end and stamps the times only if it held pages); the SDK stamps the times itself where POSIX
/// callers expect it (ftruncate, O_TRUNC).</summary>
/// <remarks>If not implemented: EINVAL (EISDIR for a directory).</remarks>
public interface ITruncatable
{
    /// <summary>Sets the size to <paramref name="size"/> (≥ 0). EFBIG beyond the maximum file size.</summary>
    Errno Truncate(long size);
}

/// <summary>file_chmod, file_chown, file_utimens: stores an attribute change the SDK has checked.</summary>
/// <remarks>If not implemented: EOPNOTSUPP (attributes are fixed).</remarks>
public interface IAttributes
{
    /// <summary>Applies the fields of <paramref name="attr"/> named by <see cref="SetAttr.Valid"/> and sets ctime to now.</summary>
    Errno SetAttributes(in SetAttr attr);
}

/// <summary>A directory: lookup of one name and the namespace mutations.</summary>
/// <remarks>
/// Names are single components (no '/', not empty, at most <see cref="Limits.NameMax"/> bytes); "." and ".." never
/// reach the mutators, and Lookup sees ".." only when the directory is not the translator's root.
/// The implementation updates link counts, mtime and ctime of the directories and ctime of the nodes involved.
/// If not implemented: ENOTDIR for every directory operation.
/// </remarks>
public interface IDirectory
{
    /// <summary>Finds <paramref name="name"/> (".." = the parent; the filesystem's root answers ".." with itself).
    /// ENOENT when absent.</summary>
    Errno Lookup(ReadOnlySpan<byte> name, out Node? node);

    /// <summary>Creates a non-directory, non-symlink node (regular file, FIFO, socket, character or block device:
    /// the type is in <c>attrs.Mode</c>). EEXIST when the name exists, ENOSPC when full.</summary>
    Errno Create(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node);

    /// <summary>Creates a directory. EEXIST, ENOSPC, EMLINK.</summary>
    Errno Mkdir(ReadOnlySpan<byte> name, in NewNode attrs, out Node? node);

    /// <summary>Creates a symlink to <paramref name="target"/> (1..PATH_MAX-1 bytes). EEXIST, ENOSPC.</summary>
    Errno Symlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, in NewNode attrs, out Node? node);

    /// <summary>dir_link: adds a hard link to <paramref name="target"/> (never a directory). EEXIST, EXDEV when the node
    /// belongs to another filesystem, EMLINK, ENOENT when the target was already unlinked everywhere.</summary>
    Errno Link(ReadOnlySpan<byte> name, Node target);

    /// <summary>dir_unlink: removes a non-directory entry. ENOENT, EISDIR for a directory.</summary>
    Errno Unlink(ReadOnlySpan<byte> name);

    /// <summary>dir_rmdir. ENOENT, ENOTDIR, ENOTEMPTY, EBUSY when it has a translator (optional).</summary>
    Errno Rmdir(ReadOnlySpan<byte> name);

    /// <summary>dir_rename with renameat2 flags. POSIX rules: a directory may replace only an empty directory
    /// (ENOTEMPTY), a non-directory only a non-directory (EISDIR / ENOTDIR), a directory cannot move into its own
    /// subtree (EINVAL); renaming a node onto another link of itself does nothing. EXDEV when
    /// <paramref name="newDir"/> belongs to another filesystem. NOREPLACE: EEXIST if the target exists.
    /// EXCHANGE: both must exist (ENOENT), they swap.</summary>
    Errno Rename(ReadOnlySpan<byte> oldName, Node newDir, ReadOnlySpan<byte> newName, RenameFlags flags);

    /// <summary>dir_readdir: offers entries starting at <paramref name="cookie"/> (0 = the start, "." and ".." first)
    /// until the sink is full or the directory ends. Cookies must stay valid under concurrent mutation: an entry
    /// present for the whole listing is returned exactly once, a removed one is never returned after its removal.</summary>
    Errno ReadDir(long cookie, IDirEntrySink sink);
}

/// <summary>A directory whose listing depends on who reads it: dir_readdir calls this, with the directory's open protid,
/// instead of <see cref="IDirectory.ReadDir"/>.</summary>
/// <remarks>If not implemented: <see cref="IDirectory.ReadDir"/>, one listing for everyone.</remarks>
public interface IReadDirAs
{
    /// <summary><see cref="IDirectory.ReadDir"/> for <paramref name="who"/>; the same cookie rules.</summary>
    Errno ReadDir(Protid who, long cookie, IDirEntrySink sink);
}

/// <summary>A symbolic link.</summary>
/// <remarks>If not implemented: EINVAL for readlink; the lookup walk treats the node as a plain file.</remarks>
public interface ISymlink
{
    /// <summary>The target, as stored (without a NUL).</summary>
    Errno Readlink(out ReadOnlyMemory<byte> target);
}

/// <summary>Extended attributes (getxattr, setxattr, listxattr, removexattr).</summary>
/// <remarks>The SDK has checked the namespace rules (<c>user.</c>, <c>trusted.</c>, <c>security.</c>, <c>system.</c>),
/// the name length and the value size, and filters <c>trusted.</c> names out of lists for non-root callers.
/// If not implemented: EOPNOTSUPP.</remarks>
public interface IXattrs
{
    /// <summary>Copies the value into <paramref name="value"/> and sets <paramref name="size"/> to its length. With an
    /// empty buffer, only <paramref name="size"/> is set. ERANGE when the buffer is too small, ENODATA when absent.</summary>
    Errno Getxattr(ReadOnlySpan<byte> name, Span<byte> value, out int size);

    /// <summary>Sets the value. EEXIST with <see cref="XattrFlags.Create"/>, ENODATA with <see cref="XattrFlags.Replace"/>,
    /// ENOSPC when full. Updates ctime.</summary>
    Errno Setxattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags);

    /// <summary>Writes the NUL-terminated names into <paramref name="list"/>; <paramref name="size"/> is the total length.
    /// With an empty buffer only the size is set. ERANGE when too small.</summary>
    Errno Listxattr(Span<byte> list, out int size);

    /// <summary>Removes the attribute. ENODATA when absent. Updates ctime.</summary>
    Errno Removexattr(ReadOnlySpan<byte> name);
}

/// <summary>fallocate.</summary>
/// <remarks>The SDK validated the arguments (offset ≥ 0, length &gt; 0, no overflow, PUNCH_HOLE only with KEEP_SIZE,
/// no unsupported combinations) and that the file is open for writing.
/// If not implemented: EOPNOTSUPP.</remarks>
public interface IAllocatable
{
    /// <summary>Allocates, punches or zeroes [offset, offset+length) per <paramref name="mode"/>. ENOSPC (nothing changed)
    /// when the space is not there; EOPNOTSUPP for modes the filesystem does not do; EFBIG beyond the maximum size.</summary>
    Errno Fallocate(FallocateMode mode, long offset, long length);
}

/// <summary>lseek's SEEK_DATA and SEEK_HOLE.</summary>
/// <remarks>If not implemented: the whole file is data (SEEK_DATA returns the offset, SEEK_HOLE the size).</remarks>
public interface ISeekableData
{
    /// <summary>The first offset ≥ <paramref name="offset"/> that is data (<paramref name="hole"/> false) or in a hole
    /// (true; end of file is a hole). ENXIO when <paramref name="offset"/> is at or beyond the size, or (data) when no
    /// data follows.</summary>
    Errno SeekData(long offset, bool hole, out long result);
}

/// <summary>copy_file_range done by the filesystem (for example sharing or copying pages, keeping holes).</summary>
/// <remarks>Implemented on the destination node. If not implemented: the SDK copies through
/// <see cref="IReadable"/> and <see cref="IWritable"/>.</remarks>
public interface ICopyRange
{
    /// <summary>Copies up to <paramref name="length"/> bytes from <paramref name="source"/> at <paramref name="sourceOffset"/> into this
    /// node at <paramref name="offset"/>; stops at the source's end of file. EXDEV when the source is not this filesystem's
    /// (the SDK then falls back to read/write).</summary>
    Errno CopyFileRange(Node source, long sourceOffset, long offset, long length, out long copied);
}

/// <summary>file_sync / fsync / fdatasync.</summary>
/// <remarks>If not implemented: success (there is nothing to write back).</remarks>
public interface ISyncable
{
    /// <summary>Makes the node's data (and metadata unless <paramref name="dataOnly"/>) durable.</summary>
    Errno Sync(bool dataOnly);
}

/// <summary>file_statfs.</summary>
/// <remarks>If not implemented: zero counts, f_bsize 4096, f_namelen 255.</remarks>
public interface IStatFs
{
    /// <summary>Fills <paramref name="st"/> for the filesystem the node belongs to.</summary>
    Errno StatFs(ref StatFs st);
}

/// <summary>Passive translator records (file_get_translator / file_set_translator's passive part).
/// The node stores the argz (NUL-separated command line, e.g. <c>"/hurd/ext2fs\0/dev/hd0s1\0"</c>).</summary>
/// <remarks>The SDK checks that the caller owns the node (or is root). If not implemented: EOPNOTSUPP
/// when setting, EINVAL when getting (no record).</remarks>
public interface ITranslatable
{
    /// <summary>True when a passive record is stored.</summary>
    bool HasPassiveTranslator { get; }

    /// <summary>The stored record. EINVAL when none.</summary>
    Errno GetTranslator(out ReadOnlyMemory<byte> argz);

    /// <summary>Stores <paramref name="argz"/>; an empty one clears the record. Updates ctime. ENOSPC when full.</summary>
    Errno SetTranslator(ReadOnlySpan<byte> argz);
}

/// <summary>Called when an <see cref="OpenFile"/> on the node is made (after the SDK's permission checks and O_TRUNC).</summary>
/// <remarks>If not implemented: the open succeeds.</remarks>
public interface IOpenHook
{
    /// <summary>Accepts or refuses the open. An error fails it: the SDK then releases the OpenFile, which calls
    /// <see cref="ICloseHook.Close"/> as for any other close.</summary>
    Errno Open(OpenFile file);
}

/// <summary>Called when an open is made, with the <see cref="Protid"/> it made (after <see cref="IOpenHook"/>): for a file
/// whose contents depend on who opened it (the Hurd's trivfs_protid_create_hook). The protid's identity is the one the open
/// was checked against.</summary>
/// <remarks>If not implemented: nothing happens.</remarks>
public interface IOpenerHook
{
    /// <summary>Accepts or refuses the open, as <see cref="IOpenHook.Open"/> does.</summary>
    Errno Opened(Protid protid);
}

/// <summary>Called when the last reference to an <see cref="OpenFile"/> on the node goes (the peropen dies).
/// <see cref="Node.OpenCount"/> has already been decremented, so a node with no links and no opens can free itself.</summary>
/// <remarks>If not implemented: nothing happens.</remarks>
public interface ICloseHook
{
    /// <summary>The open ended. Must not fail or block.</summary>
    void Close(OpenFile file);
}

/// <summary>The filesystem's run-time options (fsys_get_options / file_get_fs_options, fsys_set_options: the
/// fsysopts path). Implemented by any node of the filesystem (file_get_fs_options may be sent to any file).</summary>
/// <remarks>If not implemented: the options are empty and setting them is EOPNOTSUPP.</remarks>
public interface IFilesystemOptions
{
    /// <summary>The current options as an argz (each argument NUL-terminated), as they would be given on the command line.</summary>
    byte[] GetOptions();

    /// <summary>Applies the options in <paramref name="argz"/> (only those given change). EINVAL for a bad option;
    /// nothing changes then.</summary>
    Errno SetOptions(ReadOnlySpan<byte> argz);
}
