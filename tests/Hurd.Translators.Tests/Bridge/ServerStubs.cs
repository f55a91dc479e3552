namespace Hurd.Translators.Tests.Bridge;

using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using RetryType = Hurd.Interfaces.RetryType;
using XattrFlags = Hurd.Interfaces.XattrFlags;

#pragma warning disable CS1591
/// <summary>Every fs / io / fsys routine answering EOPNOTSUPP: the base of the bridge tests' small servers.</summary>
public abstract class ServerStubs : IFs, IIo, IFsys
{
    public virtual Errno file_chown(uint newOwner, uint newGroup) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_chauthor(uint newAuthor) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_chmod(FileMode newMode) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_chflags(int newFlags) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_set_size(long newSize) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_lock(LockFlags flags) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_lock_stat(out LockFlags mystatus, out LockFlags otherstatus) { mystatus = default; otherstatus = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_check_access(out OpenFlags allowed) { allowed = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_notice_changes(PortName port) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_getcontrol(out PortName control) { control = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_statfs(out StatFs info) { info = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_sync(bool wait, bool omitMetadata) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_syncfs(bool wait, bool doChildren) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_getlinknode(out PortName linknode) { linknode = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_getfh(Span<byte> filehandle, out int filehandleCount) { filehandleCount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno dir_lookup(ReadOnlySpan<byte> fileName, OpenFlags flags, FileMode mode, out RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight result) { doRetry = default; retryNameCount = default; result = default; return Errno.EOPNOTSUPP; }
    public virtual Errno dir_readdir(Span<byte> data, out int dataCount, int entry, int nentries, int bufsiz, out int amount) { dataCount = default; amount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno dir_mkdir(ReadOnlySpan<byte> name, FileMode mode) { return Errno.EOPNOTSUPP; }
    public virtual Errno dir_rmdir(ReadOnlySpan<byte> name) { return Errno.EOPNOTSUPP; }
    public virtual Errno dir_unlink(ReadOnlySpan<byte> name) { return Errno.EOPNOTSUPP; }
    public virtual Errno dir_link(PortName file, ReadOnlySpan<byte> name, bool excl) { return Errno.EOPNOTSUPP; }
    public virtual Errno dir_rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, bool excl) { return Errno.EOPNOTSUPP; }
    public virtual Errno dir_mkfile(OpenFlags flags, FileMode mode, out PortName newnode) { newnode = default; return Errno.EOPNOTSUPP; }
    public virtual Errno dir_notice_changes(PortName port) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_set_translator(TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags oldtransFlags, ReadOnlySpan<byte> passive, PortName active) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_get_translator(Span<byte> translator, out int translatorCount) { translatorCount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_get_translator_cntl(out PortName translatorCntl) { translatorCntl = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_get_fs_options(Span<byte> options, out int optionsCount) { optionsCount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_reparent(PortName parent, out PortName newFile) { newFile = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_utimens(in TimeSpec newAtime, in TimeSpec newMtime) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_record_lock(RecordLockCommand cmd, ref Flock flock64, PortName rendezvous) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_get_xattr(ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length) { valueCount = default; length = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_set_xattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_list_xattr(int size, Span<byte> names, out int namesCount, out int length) { namesCount = default; length = default; return Errno.EOPNOTSUPP; }
    public virtual Errno file_remove_xattr(ReadOnlySpan<byte> name) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_fallocate(FallocateFlags mode, long offset, long length) { return Errno.EOPNOTSUPP; }
    public virtual Errno file_copy_range(long inOffset, PortName outFile, long outOffset, long length, int flags, out long copied) { copied = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_write(ReadOnlySpan<byte> data, long offset, out int amount) { amount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_read(Span<byte> data, out int dataCount, long offset, int amount) { dataCount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_seek(long offset, SeekWhence whence, out long newp) { newp = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_readable(out long amount) { amount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_set_all_openmodes(OpenFlags newbits) { return Errno.EOPNOTSUPP; }
    public virtual Errno io_get_openmodes(out OpenFlags bits) { bits = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_set_some_openmodes(OpenFlags bitsToSet) { return Errno.EOPNOTSUPP; }
    public virtual Errno io_clear_some_openmodes(OpenFlags bitsToClear) { return Errno.EOPNOTSUPP; }
    public virtual Errno io_async(PortName notifyPort, out PortName asyncIdPort) { asyncIdPort = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_mod_owner(int owner) { return Errno.EOPNOTSUPP; }
    public virtual Errno io_get_owner(out int owner) { owner = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_get_icky_async_id(out PortName ickyAsyncIdPort) { ickyAsyncIdPort = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_stat(out Stat statInfo) { statInfo = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_reauthenticate(PortName rendezvous2) { return Errno.EOPNOTSUPP; }
    public virtual Errno io_restrict_auth(out PortName newObject, ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids) { newObject = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_duplicate(out PortName newport) { newport = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_server_version(Span<byte> serverName, out int serverNameCount, out int serverMajorVersion, out int serverMinorVersion, out int serverEditLevel) { serverNameCount = default; serverMajorVersion = default; serverMinorVersion = default; serverEditLevel = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_map(out PortName memobjrd, out PortName memobjwt) { memobjrd = default; memobjwt = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_pathconf(PathConfName name, out int value) { value = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_identity(out PortName idport, out PortName fsidport, out ulong fileno) { idport = default; fsidport = default; fileno = default; return Errno.EOPNOTSUPP; }
    public virtual Errno io_revoke() { return Errno.EOPNOTSUPP; }
    public virtual Errno io_select_timeout(in TimeSpec timeout, ref SelectType selectType) { return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_startup(OpenFlags openflags, PortName controlPort, out PortName realnode) { realnode = default; return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_goaway(GoAwayFlags flags) { return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_getroot(PortName dotdotNode, ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, OpenFlags flags, out RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight file) { doRetry = default; retryNameCount = default; file = default; return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_getfile(ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, ReadOnlySpan<byte> filehandle, out PortName file) { file = default; return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_syncfs(bool wait, bool doChildren) { return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_set_options(ReadOnlySpan<byte> options, bool doChildren) { return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_forward(PortName requestor, ReadOnlySpan<byte> argv) { return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_get_options(Span<byte> options, out int optionsCount) { optionsCount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_get_children(Span<byte> children, out int childrenCount) { childrenCount = default; return Errno.EOPNOTSUPP; }
    public virtual Errno fsys_get_source(Span<byte> source, out int sourceCount) { sourceCount = default; return Errno.EOPNOTSUPP; }
}
