using System.Buffers.Binary;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Translators.Serving;

/// <summary>
/// What a protid port serves: the io and fs protocols for one <see cref="Translators.Protid"/>
/// (identity + peropen + node). Each routine is a thin mapping onto <see cref="Calls"/>, which
/// does the permission checks and the POSIX rules; this class only converts wire types, makes
/// ports for results, and handles what needs ports (dir_lookup's retries into translators).
/// Routines the Hurd has but this system does not carry answer EOPNOTSUPP.
/// </summary>
internal sealed partial class ProtidPort(ServedFilesystem fs, Protid protid) : IIo, IFs, IFsExt
{
    /// <summary>The protid served. Replaced once, by <see cref="Authenticate"/>, for a port made by io_reauthenticate.</summary>
    public Protid Protid { get; private set; } = protid;

    /// <summary>Set while a port made by io_reauthenticate waits for auth to name its ids: requests wait for it
    /// (the client may hold the port a moment before the server learns whose it is). Null on every other port.</summary>
    internal volatile ManualResetEventSlim? Gate;

    /// <summary>1 once the port is destroyed (its peropen reference released exactly once).</summary>
    internal int Destroyed;

    /// <summary>Gives a port made by io_reauthenticate the ids auth named (its protid takes over the peropen reference
    /// of the unauthenticated one) and lets waiting requests in.</summary>
    internal void Authenticate(Identity ids)
    {
        Protid = new Protid(ids, Protid.File);
        var g = Gate;
        Gate = null;
        g?.Set();
    }
    private Node Node => Protid.Node;
    private Identity User => Protid.User;

    // ---------------------------------------------------------------- io

    public Errno io_write(ReadOnlySpan<byte> data, long offset, out int amount)
    {
        var e = Calls.IoWrite(Protid, offset, data, out amount);
        if (e == Errno.OK && amount > 0) fs.DataChanged(Protid, offset, amount);
        return e;
    }

    public Errno io_read(Span<byte> data, out int dataCount, long offset, int amount)
    {
        if (amount < 0) { dataCount = 0; return Errno.EINVAL; }
        return Calls.IoRead(Protid, offset, data[..Math.Min(amount, data.Length)], out dataCount);
    }

    public Errno io_seek(long offset, SeekWhence whence, out long newp) => Calls.IoSeek(Protid, offset, (Whence)(int)whence, out newp);

    public Errno io_readable(out long amount)
    {
        amount = 0;
        var e = Calls.IoStat(Protid, out var st);
        if (e != Errno.OK) return e;
        amount = Math.Max(0, st.Size - Protid.File.Offset);
        return Errno.OK;
    }

    // The status flags a client may change with fcntl(F_SETFL); access modes are fixed at open.
    private const OpenFlags Settable = OpenFlags.Append | OpenFlags.NonBlock | OpenFlags.Sync | OpenFlags.NoAtime;

    public Errno io_set_all_openmodes(OpenFlags newbits)
    {
        Protid.File.SetStatusFlags((Protid.File.Flags & ~Settable) | (newbits & Settable));
        return Errno.OK;
    }

    public Errno io_get_openmodes(out OpenFlags bits) { bits = Protid.File.Flags; return Errno.OK; }

    public Errno io_set_some_openmodes(OpenFlags bitsToSet)
    {
        Protid.File.SetStatusFlags(Protid.File.Flags | (bitsToSet & Settable));
        return Errno.OK;
    }

    public Errno io_clear_some_openmodes(OpenFlags bitsToClear)
    {
        Protid.File.SetStatusFlags(Protid.File.Flags & ~(bitsToClear & Settable));
        return Errno.OK;
    }

    public Errno io_async(PortName notifyPort, out PortName asyncIdPort) { asyncIdPort = PortName.Null; return Errno.EOPNOTSUPP; }
    public Errno io_mod_owner(int owner) => Errno.EOPNOTSUPP;
    public Errno io_get_owner(out int owner) { owner = 0; return Errno.EOPNOTSUPP; }
    public Errno io_get_icky_async_id(out PortName ickyAsyncIdPort) { ickyAsyncIdPort = PortName.Null; return Errno.EOPNOTSUPP; }

    public Errno io_stat(out Stat statInfo) => Calls.IoStat(Protid, out statInfo);

    // One-way: the server's half of the rendezvous runs on its own thread (see ServedFilesystem.Reauthenticate).
    public Errno io_reauthenticate(PortName rendezvous2)
    {
        fs.Reauthenticate(Protid, rendezvous2);
        return Errno.OK;
    }

    public Errno io_restrict_auth(out PortName newObject, ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids)
    {
        newObject = fs.MakePort(Protid.WithIdentity(User.Restrict(uids, gids)));
        return Errno.OK;
    }

    public Errno io_duplicate(out PortName newport)
    {
        newport = fs.MakePort(Protid.Duplicate());
        return Errno.OK;
    }

    public Errno io_server_version(Span<byte> serverName, out int serverNameCount, out int serverMajorVersion, out int serverMinorVersion, out int serverEditLevel)
    {
        serverNameCount = System.Text.Encoding.UTF8.GetBytes(fs.FsName.AsSpan(0, Math.Min(fs.FsName.Length, serverName.Length / 4)), serverName);
        (serverMajorVersion, serverMinorVersion, serverEditLevel) = (0, 1, 0);
        return Errno.OK;
    }

    public Errno io_map(out PortName memobjrd, out PortName memobjwt) { memobjrd = memobjwt = PortName.Null; return Errno.EOPNOTSUPP; }

    public Errno io_pathconf(PathConfName name, out int value)
    {
        value = name switch
        {
            PathConfName.LinkMax => 65000,
            PathConfName.NameMax => Limits.NameMax,
            PathConfName.PathMax => Limits.PathMax,
            PathConfName.PipeBuf => 4096,
            _ => -1,
        };
        return value < 0 ? Errno.EINVAL : Errno.OK;
    }

    public Errno io_identity(out PortName idport, out PortName fsidport, out ulong fileno)
    {
        idport = fsidport = PortName.Null;
        fileno = Node.Ino;
        return Errno.EOPNOTSUPP;
    }

    public Errno io_revoke() => Errno.EOPNOTSUPP;

    // Files and directories of a filesystem are always ready for reading and writing.
    public Errno io_select_timeout(in TimeSpec timeout, ref SelectType selectType) => Errno.OK;

    // ---------------------------------------------------------------- file

    public Errno file_chown(uint newOwner, uint newGroup) => Changed(Calls.FileChown(Protid, Node, newOwner, newGroup));
    public Errno file_chauthor(uint newAuthor) => Errno.EOPNOTSUPP;
    public Errno file_chmod(FileMode newMode) => Changed(Calls.FileChmod(Protid, Node, newMode));

    /// <summary>Passes <paramref name="e"/> on; when OK, tells the filesystem's observer and the node's
    /// file_notice_changes ports of the change (<see cref="ServedFilesystem.AttributesChanged"/>).</summary>
    private Errno Changed(Errno e, bool timesOnly = false)
    {
        if (e == Errno.OK) fs.AttributesChanged(Protid, timesOnly);
        return e;
    }
    public Errno file_chflags(int newFlags) => Errno.EOPNOTSUPP;
    public Errno file_set_size(long newSize)
    {
        long oldSize = fs.SizeIfWatched(Protid);
        var e = Calls.FileSetSize(Protid, newSize);
        if (e == Errno.OK) fs.SizeChanged(Protid, oldSize, newSize);
        return e;
    }

    // flock(2)-style locks are kept by the Linux kernel for FUSE mounts (no lock support is negotiated).
    public Errno file_lock(LockFlags flags) => Errno.EOPNOTSUPP;
    public Errno file_lock_stat(out LockFlags mystatus, out LockFlags otherstatus) { mystatus = otherstatus = default; return Errno.EOPNOTSUPP; }

    public Errno file_check_access(out OpenFlags allowed) => CheckAccess(Protid, out allowed);

    /// <summary>file_check_access for <paramref name="p"/>: the open modes its identity may use on its node.</summary>
    private static Errno CheckAccess(Protid p, out OpenFlags allowed)
    {
        // Calls.FileCheckAccess for each mode, with one stat of the node for the three.
        allowed = OpenFlags.None;
        if (Calls.Stat(p, p.Node, out var st) != Errno.OK) return Errno.OK;
        if (Calls.CheckAccess(p.User, p.Node, st, Access.Read) == Errno.OK) allowed |= OpenFlags.Read;
        if (Calls.CheckAccess(p.User, p.Node, st, Access.Write) == Errno.OK) allowed |= OpenFlags.Write;
        if (Calls.CheckAccess(p.User, p.Node, st, Access.Exec) == Errno.OK) allowed |= OpenFlags.Exec;
        return Errno.OK;
    }

    public Errno file_notice_changes(PortName port) => NoticeChanges(port, dir: false);

    /// <summary>dir_notice_changes / file_notice_changes: registers the send right the client gave (this peropen must be
    /// open for reading: the messages tell what a reader would see) with the filesystem's <see cref="ChangeNotices"/>,
    /// which sends the NULL message at once.</summary>
    private Errno NoticeChanges(PortName port, bool dir)
    {
        var right = SendRight.FromName(port);
        if (right is null) return Errno.EINVAL;
        Errno e = dir && Node is not IDirectory ? Errno.ENOTDIR
            : (Protid.File.Flags & OpenFlags.Read) == 0 ? Errno.EBADF
            : Errno.OK;
        if (e != Errno.OK) { right.Dispose(); return e; }
        return fs.Notices.Add(Node, right, dir);
    }

    public Errno file_getcontrol(out PortName control)
    {
        control = PortName.Null;
        var e = Calls.CheckController(Protid, fs.Root);
        if (e != Errno.OK) return e;
        control = fs.Control.Name;
        return Errno.OK;
    }

    public Errno file_statfs(out StatFs info) => Calls.FileStatfs(Protid, out info);
    public Errno file_sync(bool wait, bool omitMetadata) => Calls.FileSync(Protid, omitMetadata);

    public Errno file_syncfs(bool wait, bool doChildren) =>
        fs.Root is ISyncable s ? s.Sync(false) : Errno.OK;

    public Errno file_getlinknode(out PortName linknode)
    {
        linknode = fs.MakePort(Protid.Duplicate());
        return Errno.OK;
    }

    public Errno file_getfh(Span<byte> filehandle, out int filehandleCount)
    {
        filehandleCount = 0;
        if (filehandle.Length < FileHandle.Length) return Errno.EMSGSIZE;
        FileHandle.Write(filehandle, Node);
        filehandleCount = FileHandle.Length;
        return Errno.OK;
    }

    public Errno dir_lookup(ReadOnlySpan<byte> fileName, OpenFlags flags, FileMode mode, out Hurd.Interfaces.RetryType doRetry,
        Span<byte> retryName, out int retryNameCount, out PortRight result)
    {
        doRetry = Hurd.Interfaces.RetryType.Normal;
        retryNameCount = 0;
        result = PortRight.Null;
        if (fs.IsGoingAway) return Errno.EBUSY;

        var e = Calls.DirLookup(Protid, fs.Root, fileName, flags, mode, out var lr);
        if (e != Errno.OK) return e;
        if (lr.RetryName.Length > retryName.Length) return Errno.ENAMETOOLONG;

        switch (lr.Retry)
        {
            case Hurd.Interfaces.RetryType.Magical:
                doRetry = Hurd.Interfaces.RetryType.Magical;
                lr.RetryName.CopyTo(retryName);
                retryNameCount = lr.RetryName.Length;
                return Errno.OK;

            case Hurd.Interfaces.RetryType.Reauth:
                // ".." out of our root: the parent's directory, which the client reauthenticates.
                if (fs.DotDot is null || fs.DotDot.IsDead)
                {
                    // No parent (a FUSE-mounted root: the kernel handles ".."): the root is its own parent.
                    lr = default;
                    e = Calls.DirLookup(Protid, fs.Root, "."u8, flags, mode, out lr);
                    if (e != Errno.OK) return e;
                    break;
                }
                doRetry = Hurd.Interfaces.RetryType.Reauth;
                lr.RetryName.CopyTo(retryName);
                retryNameCount = lr.RetryName.Length;
                result = PortRight.CopySend(fs.DotDot.Name);
                return Errno.OK;
        }

        if (lr.Translated)
        {
            // A translator sits on lr.Node: its root replaces the node (fshelp_fetch_root).
            e = fs.Translators.GetRoot(lr.Node!, Protid, flags, out var root);
            if (e != Errno.OK) return e;
            lr.RetryName.CopyTo(retryName);
            retryNameCount = lr.RetryName.Length;
            result = PortRight.MoveSend(root);
            return Errno.OK;
        }

        e = Calls.Open(User, lr.Node!, flags, lr.Created, out var opened);
        if (lr.Created) fs.Created(Protid, fileName); // made even when the open then failed
        if (e != Errno.OK) return e;
        result = PortRight.MakeSend(fs.MakePort(opened!));
        return Errno.OK;
    }

    public Errno dir_readdir(Span<byte> data, out int dataCount, int entry, int nentries, int bufsiz, out int amount)
    {
        dataCount = 0;
        amount = 0;
        if (entry < 0) return Errno.EINVAL;
        if (Node is not IDirectory) return Errno.ENOTDIR;
        if (!Protid.File.CanRead) return Errno.EBADF;
        var snap = fs.SnapshotOf(Protid.File);
        lock (snap.Lock)
        {
            if (entry == 0 || !snap.Valid)
            {
                snap.Clear();
                var e = Calls.DirReaddir(Protid, 0, snap);
                if (e != Errno.OK) { snap.Clear(); return e; }
                snap.Valid = true;
            }
            var w = new DirentWriter(bufsiz > 0 ? data[..Math.Min(bufsiz, data.Length)] : data);
            for (int i = entry; i < snap.Count && (nentries < 0 || amount < nentries); i++)
            {
                if (!w.TryAdd(snap.Ino(i), ToDirentType(snap.Type(i)), snap.Name(i))) break;
                amount++;
            }
            if (amount == 0 && entry < snap.Count) return Errno.EMSGSIZE;
            dataCount = w.Length;
        }
        return Errno.OK;
    }

    private static DirentType ToDirentType(FileMode type) => (type & FileMode.TypeMask) switch
    {
        FileMode.Fifo => DirentType.Fifo,
        FileMode.CharDevice => DirentType.CharDevice,
        FileMode.Directory => DirentType.Directory,
        FileMode.BlockDevice => DirentType.BlockDevice,
        FileMode.Regular => DirentType.Regular,
        FileMode.Symlink => DirentType.Symlink,
        FileMode.Socket => DirentType.Socket,
        _ => DirentType.Unknown,
    };

    public Errno dir_mkdir(ReadOnlySpan<byte> name, FileMode mode) => NameChanged(Calls.DirMkdir(Protid, name, mode, out _), name, DirChangedType.New);
    public Errno dir_rmdir(ReadOnlySpan<byte> name) => NameChanged(Calls.DirRmdir(Protid, name), name, DirChangedType.Unlink);
    public Errno dir_unlink(ReadOnlySpan<byte> name) => NameChanged(Calls.DirUnlink(Protid, name), name, DirChangedType.Unlink);

    /// <summary>Passes <paramref name="e"/> on; when OK, tells the filesystem's observer and the directory's
    /// dir_notice_changes ports that <paramref name="name"/> in this directory changed
    /// (<see cref="ServedFilesystem.NameChanged"/>).</summary>
    private Errno NameChanged(Errno e, ReadOnlySpan<byte> name, DirChangedType change)
    {
        if (e == Errno.OK) fs.NameChanged(Protid, name, change);
        return e;
    }

    public Errno dir_link(PortName file, ReadOnlySpan<byte> name, bool excl)
    {
        try
        {
            if (IpcSpace.Current.LocalTarget(file) is not ProtidPort target || target.Fs != fs) return Errno.EXDEV;
            if (target.Node is PendingFile pending) return NameChanged(pending.Realize(Protid, fs.Root, name), name, DirChangedType.New);
            var e = NameChanged(Calls.DirLink(Protid, target.Node, name), name, DirChangedType.New);
            if (e == Errno.OK) fs.AttributesChanged(target.Protid); // its link count
            return e;
        }
        finally { IpcSpace.Current.Deallocate(file); }
    }

    public Errno dir_rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, bool excl) =>
        Rename(oldname, newdirectory, newname, excl ? Translators.RenameFlags.NoReplace : Translators.RenameFlags.None);

    public Errno dir_rename2(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, Hurd.Interfaces.RenameatFlags flags)
    {
        const Hurd.Interfaces.RenameatFlags known = Hurd.Interfaces.RenameatFlags.NoReplace | Hurd.Interfaces.RenameatFlags.Exchange;
        if ((flags & ~known) != 0 || flags == known) { IpcSpace.Current.Deallocate(newdirectory); return Errno.EINVAL; }
        return Rename(oldname, newdirectory, newname, (Translators.RenameFlags)(uint)flags);
    }

    private Errno Rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, Translators.RenameFlags flags)
    {
        try
        {
            if (IpcSpace.Current.LocalTarget(newdirectory) is not ProtidPort to || to.Fs != fs) return Errno.EXDEV;
            // Libdiskfs's messages: the old name UNLINK, the new one NEW, or RENUMBER when it replaced a name (asked
            // before the rename, and only when the target directory has listeners). An exchange renumbers both.
            bool exchange = (flags & Translators.RenameFlags.Exchange) != 0;
            bool replaces = exchange || (fs.Notices.WatchesDir(to.Node)
                && Calls.DirLookup(to.Protid, fs.Root, newname, OpenFlags.NoTrans | OpenFlags.NoLink, 0, out _) == Errno.OK);
            var e = NameChanged(Calls.DirRename(Protid, oldname, to.Protid, newname, flags), oldname,
                exchange ? DirChangedType.Renumber : DirChangedType.Unlink);
            if (e == Errno.OK) fs.NameChanged(to.Protid, newname, replaces ? DirChangedType.Renumber : DirChangedType.New);
            return e;
        }
        finally { IpcSpace.Current.Deallocate(newdirectory); }
    }

    internal ServedFilesystem Fs => fs;

    public Errno dir_mkfile(OpenFlags flags, FileMode mode, out PortName newnode)
    {
        newnode = PortName.Null;
        if (Node is not IDirectory) return Errno.ENOTDIR;
        var e = Calls.FileCheckAccess(Protid, Node, Access.Write | Access.Exec);
        if (e != Errno.OK) return e;
        var pending = new PendingFile(Protid, mode);
        newnode = fs.MakePort(new Protid(User, new OpenFile(pending, flags & OpenFlags.AccessMask)));
        return Errno.OK;
    }
    public Errno dir_notice_changes(PortName port) => NoticeChanges(port, dir: true);

    public Errno file_set_translator(TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags oldtransFlags, ReadOnlySpan<byte> passive, PortName active)
    {
        if (Node is PendingFile pending)
        {
            IpcSpace.Current.Deallocate(active);
            return (passiveFlags & TransFlags.Set) != 0 ? pending.SetRecord(Hosting.TranslatorLauncher.SplitArgz(passive)) : Errno.OK;
        }
        // The Hurd short-circuits these on any node: store them as the node's type, not as a translator.
        return fs.Translators.SetTranslator(Protid, passiveFlags, activeFlags, oldtransFlags, passive, active);
    }

    public Errno file_get_translator(Span<byte> translator, out int translatorCount)
    {
        translatorCount = 0;
        var e = Calls.FileGetTranslator(Protid, Node, out var argz);
        if (e != Errno.OK) return e;
        if (argz.Length > translator.Length) return Errno.EMSGSIZE;
        argz.Span.CopyTo(translator);
        translatorCount = argz.Length;
        return Errno.OK;
    }

    public Errno file_get_translator_cntl(out PortName translatorCntl) => fs.Translators.GetControl(Protid, out translatorCntl);

    public Errno file_get_fs_options(Span<byte> options, out int optionsCount)
    {
        optionsCount = 0;
        var e = Calls.FileGetFsOptions(Protid, out var argz);
        if (e != Errno.OK) return e;
        if (argz.Length > options.Length) return Errno.EMSGSIZE;
        argz.CopyTo(options);
        optionsCount = argz.Length;
        return Errno.OK;
    }

    public Errno file_reparent(PortName parent, out PortName newFile) { newFile = PortName.Null; return Errno.EOPNOTSUPP; }

    public Errno file_utimens(in TimeSpec newAtime, in TimeSpec newMtime) => Changed(Calls.FileUtimens(Protid, Node, newAtime, newMtime), timesOnly: true);

    public Errno file_record_lock(RecordLockCommand cmd, ref Flock flock64, PortName rendezvous) => Errno.EOPNOTSUPP;

    public Errno file_get_xattr(ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length) =>
        GetXattr(Protid, name, size, value, out valueCount, out length);

    /// <summary>file_get_xattr for <paramref name="p"/>.</summary>
    private static Errno GetXattr(Protid p, ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length)
    {
        valueCount = 0;
        length = 0;
        if (name.SequenceEqual("gnu.translator"u8))
        {
            var e2 = Calls.FileGetTranslator(p, p.Node, out var argz);
            if (e2 != Errno.OK) return e2 == Errno.EOPNOTSUPP ? Errno.ENODATA : e2;
            if (argz.IsEmpty) return Errno.ENODATA;
            length = argz.Length;
            if (size == 0) return Errno.OK;
            if (argz.Length > Math.Min(size, value.Length)) return Errno.ERANGE;
            argz.Span.CopyTo(value);
            valueCount = argz.Length;
            return Errno.OK;
        }
        // size 0 asks for the length only: read into a scratch buffer of the largest size.
        if (size == 0)
        {
            byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Limits.XattrSizeMax);
            try { return Calls.Getxattr(p, p.Node, name, scratch.AsSpan(0, Limits.XattrSizeMax), out length); }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(scratch); }
        }
        var e = Calls.Getxattr(p, p.Node, name, value[..Math.Min(size, value.Length)], out length);
        if (e == Errno.OK) valueCount = length;
        return e;
    }

    public Errno file_set_xattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, Hurd.Interfaces.XattrFlags flags) =>
        Changed(Calls.Setxattr(Protid, Node, name, value, (Hurd.Translators.XattrFlags)(int)flags));

    public Errno file_list_xattr(int size, Span<byte> names, out int namesCount, out int length)
    {
        namesCount = 0;
        length = 0;
        if (size == 0)
        {
            byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Limits.XattrListMax);
            try { return Calls.Listxattr(Protid, Node, scratch.AsSpan(0, Limits.XattrListMax), out length); }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(scratch); }
        }
        var e = Calls.Listxattr(Protid, Node, names[..Math.Min(size, names.Length)], out length);
        if (e == Errno.OK) namesCount = length;
        return e;
    }

    public Errno file_remove_xattr(ReadOnlySpan<byte> name) => Changed(Calls.Removexattr(Protid, Node, name));

    /// <remarks>Hole punching and zeroing change bytes (a write of the range), collapsing and inserting everything
    /// from the offset on; an allocation that grows the file extends it.</remarks>
    public Errno file_fallocate(FallocateFlags mode, long offset, long length)
    {
        long oldSize = fs.SizeIfWatched(Protid);
        var e = Calls.Fallocate(Protid, (FallocateMode)(int)mode, offset, length);
        if (e != Errno.OK) return e;
        if ((mode & (FallocateFlags.CollapseRange | FallocateFlags.InsertRange)) != 0) fs.DataChanged(Protid, offset, 0); // all that follows moved
        else if ((mode & (FallocateFlags.PunchHole | FallocateFlags.ZeroRange)) != 0) fs.DataChanged(Protid, offset, length);
        else if ((mode & FallocateFlags.KeepSize) == 0) fs.SizeMayHaveChanged(Protid, oldSize);
        return e;
    }

    public Errno file_copy_range(long inOffset, PortName outFile, long outOffset, long length, int flags, out long copied)
    {
        copied = 0;
        try
        {
            if (IpcSpace.Current.LocalTarget(outFile) is not ProtidPort to || to.Fs != fs) return Errno.EXDEV;
            var e = Calls.CopyFileRange(Protid, inOffset, to.Protid, outOffset, length, out copied);
            if (e == Errno.OK && copied > 0) fs.DataChanged(to.Protid, outOffset, copied);
            return e;
        }
        finally { IpcSpace.Current.Deallocate(outFile); }
    }
}

/// <summary>A file handle (file_getfh / fsys_getfile): the node's inode number and generation, 12 bytes little-endian.</summary>
internal static class FileHandle
{
    public const int Length = 12;
    public static void Write(Span<byte> dst, Node n)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(dst, n.Ino);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[8..], n.Generation);
    }
    public static bool TryRead(ReadOnlySpan<byte> src, out ulong ino, out uint gen)
    {
        ino = 0; gen = 0;
        if (src.Length != Length) return false;
        ino = BinaryPrimitives.ReadUInt64LittleEndian(src);
        gen = BinaryPrimitives.ReadUInt32LittleEndian(src[8..]);
        return true;
    }
}
