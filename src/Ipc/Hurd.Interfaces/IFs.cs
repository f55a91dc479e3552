using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using FileMode = Hurd.Ipc.Abi.FileMode;

namespace Hurd.Interfaces;

/// <summary>
/// The fs protocol (the Hurd's <c>hurd/fs.defs</c>, subsystem fs 20000): files and directories.
/// Every port that answers fs also answers <see cref="IIo"/>. Indexes 0-36 are the Hurd's, so ids
/// match (dir_lookup = 20018, file_set_translator = 20027); indexes not declared here are the
/// Hurd's routines this system does not carry: 0 file_exec (deprecated), 5 file_utimes (use
/// file_utimens), 15 file_get_storage_info, 32-33 (skipped in the Hurd too), 34 file_exec_paths.
/// <para>
/// Indexes 80-99 (ids 20080-20099) are this system's Linux extensions, for what a POSIX
/// filesystem behind FUSE needs and the Hurd does by other means: extended attributes,
/// fallocate, copy_file_range. They sit at the top of the request range (ids 20100-20199 are
/// replies) so the Hurd's own list can keep growing from 37 without a clash.
/// </para>
/// Names are bytes (UTF-8 or not, never NUL-terminated). Permission checks use the protid's
/// identity; a missing right gives EACCES/EPERM as in POSIX.
/// </summary>
[Subsystem("fs", 20000)]
public interface IFs
{
    /// <summary>
    /// chown: uint.MaxValue leaves an id unchanged. Only root may change the owner; the owner may
    /// change the group to one of its groups. Clears set-uid/set-gid as POSIX says.
    /// </summary>
    [Routine(1)]
    Errno file_chown(uint newOwner, uint newGroup);

    /// <summary>Sets the Hurd's st_author (owner or root only).</summary>
    [Routine(2)]
    Errno file_chauthor(uint newAuthor);

    /// <summary>chmod: the permission bits of <paramref name="newMode"/> (07777); the type bits are ignored. Owner or root only.</summary>
    [Routine(3)]
    Errno file_chmod(FileMode newMode);

    /// <summary>Sets the file flags (st_flags, chflags). Owner or root only.</summary>
    [Routine(4)]
    Errno file_chflags(int newFlags);

    /// <summary>
    /// truncate/ftruncate: sets the size; growing zero-fills. Needs write permission on the node
    /// (not an O_WRITE open). EISDIR on directories.
    /// </summary>
    [Routine(6)]
    Errno file_set_size(long newSize);

    /// <summary>flock(2) on the peropen: <see cref="LockFlags"/> Shared/Exclusive/Unlock, with NonBlock (EWOULDBLOCK).</summary>
    [Routine(7)]
    Errno file_lock(LockFlags flags);

    /// <summary>The lock this open holds (<paramref name="mystatus"/>) and the strongest anyone holds (<paramref name="otherstatus"/>).</summary>
    [Routine(8)]
    Errno file_lock_stat(out LockFlags mystatus, out LockFlags otherstatus);

    /// <summary>
    /// access(2): which of O_READ, O_WRITE, O_EXEC the identity may use, regardless of this
    /// port's open modes (O_WRITE on a directory means it can be modified).
    /// </summary>
    [Routine(9)]
    Errno file_check_access(out OpenFlags allowed);

    /// <summary>Sends file-change notifications (fs_notify) to <paramref name="port"/>.</summary>
    [Routine(10)]
    Errno file_notice_changes(PortName port);

    /// <summary>
    /// The filesystem's control port (fsys), only for root, the owner of the filesystem's root,
    /// or the translator's own user (fshelp_iscontroller); otherwise EPERM.
    /// </summary>
    [Routine(11)]
    Errno file_getcontrol(out PortName control);

    /// <summary>statfs for the filesystem holding the file.</summary>
    [Routine(12)]
    Errno file_statfs(out StatFs info);

    /// <summary>fsync/fdatasync: writes the file back; <paramref name="wait"/> waits for the write; <paramref name="omitMetadata"/> is fdatasync.</summary>
    [Routine(13)]
    Errno file_sync(bool wait, bool omitMetadata);

    /// <summary>syncfs: writes the whole filesystem back, and its child translators' with <paramref name="doChildren"/>.</summary>
    [Routine(14)]
    Errno file_syncfs(bool wait, bool doChildren);

    /// <summary>
    /// The untranslated node under a possibly translated file, for link(2); the port may be
    /// unauthenticated.
    /// </summary>
    [Routine(16)]
    Errno file_getlinknode(out PortName linknode);

    /// <summary>A file handle for the file (NFS-style), usable with fsys_getfile; EOPNOTSUPP if the filesystem has none.</summary>
    [Routine(17)]
    Errno file_getfh([MaxLength(HurdLimits.FileHandleMax)] Span<byte> filehandle, out int filehandleCount);

    /// <summary>
    /// Resolves <paramref name="fileName"/> (relative, no leading '/'; empty means reopen this
    /// object as a new peropen) with open <paramref name="flags"/> and creation <paramref name="mode"/>.
    /// The server resolves every component it owns in this one call, following relative symlinks.
    /// Results, by <paramref name="doRetry"/>:
    /// <list type="bullet">
    /// <item>Normal with an empty retry name: <paramref name="result"/> is the opened object;</item>
    /// <item>Normal with a name: call dir_lookup(name) on <paramref name="result"/> (a translator's root at a mount point);</item>
    /// <item>Reauth: reauthenticate <paramref name="result"/>, then retry even with an empty name ("..": leaving a translator);</item>
    /// <item>Magical: the client interprets the name ("/..." from its root, "fd/N", "tty").</item>
    /// </list>
    /// The retry name is at most <see cref="HurdLimits.RetryNameMax"/> bytes. O_NOTRANS stops at a
    /// translated last component; O_NOLINK does not follow a symlink there. ENOTDIR when a
    /// middle component is not a directory.
    /// </summary>
    [Routine(18)]
    Errno dir_lookup(ReadOnlySpan<byte> fileName, OpenFlags flags, FileMode mode, out RetryType doRetry,
        [MaxLength(HurdLimits.RetryNameMax)] Span<byte> retryName, out int retryNameCount, out PortRight result);

    /// <summary>
    /// Reads directory entries from entry number <paramref name="entry"/> (0 is the first): at most
    /// <paramref name="nentries"/> (-1: any number) and at most <paramref name="bufsiz"/> bytes
    /// (0: no limit but the reply's room). <paramref name="data"/> holds the packed entries
    /// (<see cref="DirentFormat"/>; write them with <see cref="DirentWriter"/>), <paramref name="amount"/> how many.
    /// Past the last entry: OK with amount 0. Needs O_READ.
    /// </summary>
    [Routine(19)]
    Errno dir_readdir(Span<byte> data, out int dataCount, int entry, int nentries, int bufsiz, out int amount);

    /// <summary>mkdir: EEXIST if the name exists. Needs write permission on the directory.</summary>
    [Routine(20)]
    Errno dir_mkdir(ReadOnlySpan<byte> name, FileMode mode);

    /// <summary>rmdir: ENOTEMPTY unless empty; EBUSY on a translated directory or a mount point.</summary>
    [Routine(21)]
    Errno dir_rmdir(ReadOnlySpan<byte> name);

    /// <summary>unlink a non-directory (EISDIR for a directory). The sticky bit restricts it to owners.</summary>
    [Routine(22)]
    Errno dir_unlink(ReadOnlySpan<byte> name);

    /// <summary>
    /// link: enters <paramref name="file"/> (a port from file_getlinknode or an open) as
    /// <paramref name="name"/> in this directory. EXDEV if the file belongs to another server;
    /// with <paramref name="excl"/>, EEXIST if the name exists (else it is replaced).
    /// </summary>
    [Routine(23)]
    Errno dir_link(PortName file, ReadOnlySpan<byte> name, bool excl);

    /// <summary>
    /// rename: moves <paramref name="oldname"/> of this directory to <paramref name="newname"/> in
    /// <paramref name="newdirectory"/> (EXDEV if that belongs to another server). With
    /// <paramref name="excl"/>, EEXIST if the new name exists (RENAME_NOREPLACE).
    /// </summary>
    [Routine(24)]
    Errno dir_rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, bool excl);

    /// <summary>
    /// Creates an anonymous file (O_TMPFILE; link it later with dir_link). O_CREAT and O_TRUNC are
    /// implied. Needs write permission on the directory.
    /// </summary>
    [Routine(25)]
    Errno dir_mkfile(OpenFlags flags, FileMode mode, out PortName newnode);

    /// <summary>Sends directory-change notifications (fs_notify) to <paramref name="port"/>.</summary>
    [Routine(26)]
    Errno dir_notice_changes(PortName port);

    /// <summary>
    /// settrans. <paramref name="passive"/> is the passive translator's argz command line
    /// ("/hurd/hello\0--contents=hi\0"; empty clears it), set when <paramref name="passiveFlags"/>
    /// has <see cref="TransFlags.Set"/>. <paramref name="active"/> is a started translator's control
    /// port (null to stop the active one), installed when <paramref name="activeFlags"/> has Set.
    /// An existing active translator gets fsys_goaway(<paramref name="oldtransFlags"/>), or is
    /// orphaned with <see cref="TransFlags.Orphan"/>; EBUSY if it refuses or with Excl. Owner or root only.
    /// Sent to a translated node's port (no O_NOTRANS), it goes to the top translator (stacking).
    /// </summary>
    [Routine(27)]
    Errno file_set_translator(TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags oldtransFlags, ReadOnlySpan<byte> passive, PortName active);

    /// <summary>The passive translator's argz (showtrans); EINVAL if the node has none.</summary>
    [Routine(28)]
    Errno file_get_translator(Span<byte> translator, out int translatorCount);

    /// <summary>The control port of the node's active translator (a copy of the send right the parent holds); ENXIO if none. Owner or root only.</summary>
    [Routine(29)]
    Errno file_get_translator_cntl([Right(Disposition.CopySend)] out PortName translatorCntl);

    /// <summary>The filesystem's current options as an argz, suitable for fsys_set_options (fsysopts).</summary>
    [Routine(30)]
    Errno file_get_fs_options(Span<byte> options, out int optionsCount);

    /// <summary>A new port like this one, except that ".." lookups from it go to <paramref name="parent"/> (chroot-like views).</summary>
    [Routine(31)]
    Errno file_reparent(PortName parent, out PortName newFile);

    /// <summary>
    /// utimensat: sets atime and mtime; a nanosecond field of <see cref="TimeSpec.UtimeNow"/> means
    /// now, <see cref="TimeSpec.UtimeOmit"/> leaves it unchanged. Owner (or write permission for "now") as POSIX says.
    /// </summary>
    [Routine(35)]
    Errno file_utimens(in TimeSpec newAtime, in TimeSpec newMtime);

    /// <summary>
    /// fcntl record locks: <paramref name="cmd"/> is a <see cref="RecordLockCommand"/>; the flock
    /// is updated for GetLock. <paramref name="rendezvous"/> null means locks belong to the open
    /// (OFD locks); otherwise to the process it names. SetLockWait waits, interruptibly.
    /// </summary>
    [Routine(36)]
    Errno file_record_lock(RecordLockCommand cmd, ref Flock flock64, PortName rendezvous);

    // ---- Linux extensions (indexes 80-99), not in the Hurd's fs.defs.

    /// <summary>
    /// getxattr. <paramref name="size"/> is the caller's buffer size: 0 asks only for the length
    /// (OK, no data); smaller than the value gives ERANGE; otherwise the value is returned.
    /// <paramref name="length"/> is the value's full length. ENODATA if absent.
    /// Names carry their namespace ("user.", "trusted.", "security.", "gnu.translator").
    /// </summary>
    [Routine(80)]
    Errno file_get_xattr(ReadOnlySpan<byte> name, int size, [MaxLength(HurdLimits.XattrSizeMax)] Span<byte> value, out int valueCount, out int length);

    /// <summary>setxattr with <see cref="XattrFlags"/>; E2BIG beyond <see cref="HurdLimits.XattrSizeMax"/>. "gnu.translator" sets the passive translator.</summary>
    [Routine(81)]
    Errno file_set_xattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags);

    /// <summary>
    /// listxattr: the names, each NUL-terminated. <paramref name="size"/> as for file_get_xattr (0
    /// asks for the length only; too small gives ERANGE); <paramref name="length"/> is the full length.
    /// </summary>
    [Routine(82)]
    Errno file_list_xattr(int size, [MaxLength(HurdLimits.XattrSizeMax)] Span<byte> names, out int namesCount, out int length);

    /// <summary>removexattr; ENODATA if absent.</summary>
    [Routine(83)]
    Errno file_remove_xattr(ReadOnlySpan<byte> name);

    /// <summary>fallocate(2) on the range with <see cref="FallocateFlags"/>; EOPNOTSUPP for modes the filesystem lacks. Needs O_WRITE.</summary>
    [Routine(84)]
    Errno file_fallocate(FallocateFlags mode, long offset, long length);

    /// <summary>
    /// copy_file_range: copies <paramref name="length"/> bytes from this file at
    /// <paramref name="inOffset"/> to <paramref name="outFile"/> at <paramref name="outOffset"/>;
    /// <paramref name="copied"/> may be short. EXDEV if the destination belongs to another server
    /// (the client then copies with io_read/io_write). Needs O_READ here and O_WRITE there.
    /// </summary>
    [Routine(85)]
    Errno file_copy_range(long inOffset, PortName outFile, long outOffset, long length, int flags, out long copied);
}
