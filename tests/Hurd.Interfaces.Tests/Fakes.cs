using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using FileMode = Hurd.Ipc.Abi.FileMode;

namespace Hurd.Interfaces.Tests;

/// <summary>An io server for the tests: records what it got, answers what it is told.</summary>
public sealed class FakeIo : IIo
{
    public int Calls;
    /// <summary>Keep copies of what arrives (allocates; off for the allocation test).</summary>
    public bool Record = true;
    public byte[] ReadData = "hi!"u8.ToArray();
    public long LastOffset;
    public int LastAmount;
    public byte[] LastWritten = [];
    public Errno Result = Errno.OK;
    /// <summary>If set, io_read claims this many bytes (a buggy server).</summary>
    public int? ReadCountOverride;
    public bool Reauthenticated;
    public PortName LastRendezvous;

    public Errno io_write(ReadOnlySpan<byte> data, long offset, out int amount)
    { Calls++; if (Record) LastWritten = data.ToArray(); LastOffset = offset; amount = data.Length; return Result; }

    public Errno io_read(Span<byte> data, out int dataCount, long offset, int amount)
    {
        Calls++; LastOffset = offset; LastAmount = amount;
        int n = Math.Max(0, Math.Min(Math.Min(amount, data.Length), ReadData.Length));
        ReadData.AsSpan(0, n).CopyTo(data);
        dataCount = ReadCountOverride ?? n;
        return Result;
    }

    public Errno io_seek(long offset, SeekWhence whence, out long newp) { Calls++; newp = offset + (int)whence; return Result; }
    public Errno io_readable(out long amount) { Calls++; amount = 0; return Errno.EOPNOTSUPP; }
    public Errno io_set_all_openmodes(OpenFlags newbits) => Errno.EOPNOTSUPP;
    public Errno io_get_openmodes(out OpenFlags bits) { bits = OpenFlags.Read; return Errno.OK; }
    public Errno io_set_some_openmodes(OpenFlags bitsToSet) => Errno.EOPNOTSUPP;
    public Errno io_clear_some_openmodes(OpenFlags bitsToClear) => Errno.EOPNOTSUPP;
    public Errno io_async(PortName notifyPort, out PortName asyncIdPort) { asyncIdPort = default; return Errno.EOPNOTSUPP; }
    public Errno io_mod_owner(int owner) => Errno.EOPNOTSUPP;
    public Errno io_get_owner(out int owner) { owner = 0; return Errno.EOPNOTSUPP; }
    public Errno io_get_icky_async_id(out PortName ickyAsyncIdPort) { ickyAsyncIdPort = default; return Errno.EOPNOTSUPP; }
    public Errno io_stat(out Stat statInfo)
    {
        Calls++;
        statInfo = default;
        statInfo.Ino = 42; statInfo.Mode = FileMode.Regular | (FileMode)0x1a4; statInfo.Size = 3; statInfo.Mtime = new TimeSpec(1, 2);
        return Result;
    }
    public Errno io_reauthenticate(PortName rendezvous2) { Calls++; Reauthenticated = true; LastRendezvous = rendezvous2; return Errno.OK; }
    public Errno io_restrict_auth(out PortName newObject, ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids) { newObject = default; return Errno.EOPNOTSUPP; }
    public Errno io_duplicate(out PortName newport) { newport = new PortName(77); return Errno.OK; }
    public Errno io_server_version(Span<byte> serverName, out int serverNameCount, out int serverMajorVersion, out int serverMinorVersion, out int serverEditLevel)
    {
        "fake"u8.CopyTo(serverName); serverNameCount = 4; serverMajorVersion = 1; serverMinorVersion = 2; serverEditLevel = 3; return Errno.OK;
    }
    public Errno io_map(out PortName memobjrd, out PortName memobjwt) { memobjrd = memobjwt = default; return Errno.EOPNOTSUPP; }
    public Errno io_pathconf(PathConfName name, out int value) { value = name == PathConfName.NameMax ? 255 : 0; return Errno.OK; }
    public Errno io_identity(out PortName idport, out PortName fsidport, out ulong fileno) { idport = fsidport = default; fileno = 0; return Errno.EOPNOTSUPP; }
    public Errno io_revoke() => Errno.EOPNOTSUPP;
    public Errno io_select_timeout(in TimeSpec timeout, ref SelectType selectType) { selectType &= SelectType.Read; return Errno.OK; }
}

/// <summary>An fs server for the tests.</summary>
public sealed class FakeFs : IFs
{
    public int Calls;
    /// <summary>Keep copies of what arrives (allocates; off for the allocation test).</summary>
    public bool Record = true;
    public byte[] LastName = [];
    public OpenFlags LastFlags;
    public FileMode LastMode;
    public byte[] RetryName = "rest"u8.ToArray();
    public PortRight Result = PortRight.MakeSend(new PortName(7));
    public RetryType Retry = RetryType.Normal;
    public TransFlags LastPassiveFlags, LastActiveFlags;
    public GoAwayFlags LastGoAway;
    public byte[] LastPassive = [];
    public PortName LastActive = new(12345);
    public PortName LastFile;
    public bool LastExcl;

    private static Errno No() => Errno.EOPNOTSUPP;
    public Errno file_chown(uint newOwner, uint newGroup) => No();
    public Errno file_chauthor(uint newAuthor) => No();
    public Errno file_chmod(FileMode newMode) => No();
    public Errno file_chflags(int newFlags) => No();
    public Errno file_set_size(long newSize) => No();
    public Errno file_lock(LockFlags flags) => No();
    public Errno file_lock_stat(out LockFlags mystatus, out LockFlags otherstatus) { mystatus = otherstatus = 0; return No(); }
    public Errno file_check_access(out OpenFlags allowed) { allowed = OpenFlags.Read | OpenFlags.Write; return Errno.OK; }
    public Errno file_notice_changes(PortName port) => No();
    public Errno file_getcontrol(out PortName control) { control = default; return No(); }
    public Errno file_statfs(out StatFs info) { info = default; info.Bsize = 4096; info.Namelen = 255; return Errno.OK; }
    public Errno file_sync(bool wait, bool omitMetadata) => No();
    public Errno file_syncfs(bool wait, bool doChildren) => No();
    public Errno file_getlinknode(out PortName linknode) { linknode = default; return No(); }
    public Errno file_getfh(Span<byte> filehandle, out int filehandleCount) { filehandleCount = 0; return No(); }

    public Errno dir_lookup(ReadOnlySpan<byte> fileName, OpenFlags flags, FileMode mode, out RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight result)
    {
        Calls++; if (Record) LastName = fileName.ToArray(); LastFlags = flags; LastMode = mode;
        doRetry = Retry;
        RetryName.CopyTo(retryName);
        retryNameCount = RetryName.Length;
        result = Result;
        return Errno.OK;
    }

    public Errno dir_readdir(Span<byte> data, out int dataCount, int entry, int nentries, int bufsiz, out int amount)
    {
        Calls++;
        var w = new DirentWriter(bufsiz > 0 && bufsiz < data.Length ? data[..bufsiz] : data);
        string[] names = [".", "..", "a", "bb"];
        for (int i = Math.Max(entry, 0); i < names.Length && (nentries < 0 || w.Count < nentries); i++)
            if (!w.TryAdd((ulong)(i + 1), i < 2 ? DirentType.Directory : DirentType.Regular, System.Text.Encoding.UTF8.GetBytes(names[i]))) break;
        dataCount = w.Length; amount = w.Count;
        return Errno.OK;
    }

    public Errno dir_mkdir(ReadOnlySpan<byte> name, FileMode mode) { Calls++; LastName = name.ToArray(); LastMode = mode; return Errno.OK; }
    public Errno dir_rmdir(ReadOnlySpan<byte> name) => No();
    public Errno dir_unlink(ReadOnlySpan<byte> name) => No();
    public Errno dir_link(PortName file, ReadOnlySpan<byte> name, bool excl) { Calls++; LastFile = file; LastName = name.ToArray(); LastExcl = excl; return Errno.OK; }
    public Errno dir_rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, bool excl) => No();
    public Errno dir_mkfile(OpenFlags flags, FileMode mode, out PortName newnode) { newnode = default; return No(); }
    public Errno dir_notice_changes(PortName port) => No();

    public Errno file_set_translator(TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags oldtransFlags, ReadOnlySpan<byte> passive, PortName active)
    {
        Calls++; LastPassiveFlags = passiveFlags; LastActiveFlags = activeFlags; LastGoAway = oldtransFlags; LastPassive = passive.ToArray(); LastActive = active;
        return Errno.OK;
    }

    public Errno file_get_translator(Span<byte> translator, out int translatorCount)
    {
        "/hurd/hello\0"u8.CopyTo(translator); translatorCount = 12; return Errno.OK;
    }
    public Errno file_get_translator_cntl(out PortName translatorCntl) { translatorCntl = new PortName(31); return Errno.OK; }
    public Errno file_get_fs_options(Span<byte> options, out int optionsCount) { optionsCount = 0; return No(); }
    public Errno file_reparent(PortName parent, out PortName newFile) { newFile = default; return No(); }
    public Errno file_utimens(in TimeSpec newAtime, in TimeSpec newMtime) => No();
    public Errno file_record_lock(RecordLockCommand cmd, ref Flock flock64, PortName rendezvous)
    {
        if (cmd == RecordLockCommand.GetLock) { flock64.Type = Flock.Unlock; flock64.Pid = 0; }
        return Errno.OK;
    }
    public Errno file_get_xattr(ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length)
    {
        ReadOnlySpan<byte> v = "value"u8;
        length = v.Length; valueCount = 0;
        if (size == 0) return Errno.OK;
        if (size < v.Length) return Errno.ERANGE;
        v.CopyTo(value); valueCount = v.Length;
        return Errno.OK;
    }
    public Errno file_set_xattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags) => No();
    public Errno file_list_xattr(int size, Span<byte> names, out int namesCount, out int length) { namesCount = length = 0; return No(); }
    public Errno file_remove_xattr(ReadOnlySpan<byte> name) => No();
    public Errno file_fallocate(FallocateFlags mode, long offset, long length) => No();
    public Errno file_copy_range(long inOffset, PortName outFile, long outOffset, long length, int flags, out long copied) { copied = 0; return No(); }
}

/// <summary>An fsys server for the tests.</summary>
public sealed class FakeFsys : IFsys
{
    public int Calls;
    public PortName LastDotdot;
    public uint[] LastUids = [], LastGids = [];
    public OpenFlags LastFlags;
    public GoAwayFlags LastGoAway;
    public PortRight Root = PortRight.MakeSend(new PortName(9));

    public Errno fsys_startup(OpenFlags openflags, PortName controlPort, out PortName realnode) { realnode = new PortName(3); return Errno.OK; }
    public Errno fsys_goaway(GoAwayFlags flags) { Calls++; LastGoAway = flags; return Errno.EBUSY; }
    public Errno fsys_getroot(PortName dotdotNode, ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, OpenFlags flags, out RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight file)
    {
        Calls++; LastDotdot = dotdotNode; LastUids = genUids.ToArray(); LastGids = genGids.ToArray(); LastFlags = flags;
        doRetry = RetryType.Normal; retryNameCount = 0; file = Root;
        return Errno.OK;
    }
    public Errno fsys_getfile(ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, ReadOnlySpan<byte> filehandle, out PortName file) { file = default; return Errno.ESTALE; }
    public Errno fsys_syncfs(bool wait, bool doChildren) => Errno.OK;
    public Errno fsys_set_options(ReadOnlySpan<byte> options, bool doChildren) => Errno.EINVAL;
    public Errno fsys_forward(PortName requestor, ReadOnlySpan<byte> argv) => Errno.EOPNOTSUPP;
    public Errno fsys_get_options(Span<byte> options, out int optionsCount) { "hello\0"u8.CopyTo(options); optionsCount = 6; return Errno.OK; }
    public Errno fsys_get_children(Span<byte> children, out int childrenCount) { childrenCount = 0; return Errno.OK; }
    public Errno fsys_get_source(Span<byte> source, out int sourceCount) { "none"u8.CopyTo(source); sourceCount = 4; return Errno.OK; }
}
