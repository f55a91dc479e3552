namespace Hurd.Translators.Tests.Bridge;

using System.Collections.Concurrent;
using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Translators;
using RetryType = Hurd.Interfaces.RetryType;
using XattrFlags = Hurd.Interfaces.XattrFlags;
using SdkXattrFlags = Hurd.Translators.XattrFlags;
using HurdDirentType = Hurd.Interfaces.DirentType;
using RenameFlags = Hurd.Translators.RenameFlags;

/// <summary>
/// A small fs / io / fsys server over SDK nodes for the bridge's tests: each protid is a port of this process
/// (served by the loopback transport), built on <see cref="Calls"/> the way the serving layer is. It carries what the
/// bridge relies on: fsys_getroot for vouched ids, dir_lookup with translator crossings (a node whose
/// <see cref="Node.ActiveTranslator"/> is another MiniFs's control port answers FS_RETRY_NORMAL with that translator's
/// root), io_restrict_auth, dir_readdir by entry number, and libdiskfs's short-circuiting of "/hurd/symlink",
/// "/hurd/fifo", "/hurd/chrdev"... set on a dir_mkfile node and linked in with dir_link.
/// </summary>
public sealed class MiniFs : IDisposable
{
    private readonly ConcurrentDictionary<ReceivePort, object> _ports = new();
    private readonly ReceivePort _control;
    private int _restricts, _lookups;

    public MiniFs(Node root)
    {
        Root = root;
        _control = Serve(new Control(this), null);
    }

    /// <summary>The filesystem's root node.</summary>
    public Node Root { get; }

    /// <summary>Protid ports alive (made and not yet released by no-senders).</summary>
    public int LivePorts => _ports.Count - 1;

    /// <summary>io_restrict_auth calls served.</summary>
    public int RestrictCalls => Volatile.Read(ref _restricts);

    /// <summary>dir_lookup calls served.</summary>
    public int LookupCalls => Volatile.Read(ref _lookups);

    /// <summary>A send right to the control port (fsys).</summary>
    public SendRight MakeControl() => _control.MakeSend();

    /// <summary>Sets <paramref name="child"/> as the active translator of <paramref name="at"/> (the transbox holds a send right).</summary>
    public void Attach(Node at, MiniFs child) => at.ActiveTranslator = child.MakeControl();

    private static Errno Dispatch(ServerStubs t, ref RpcRequest r) => r.Id switch
    {
        >= 21000 and < 21200 => IoServer.Dispatch(t, ref r),
        >= 22000 and < 22200 => FsysServer.Dispatch(t, ref r),
        _ => FsServer.Dispatch(t, ref r),
    };

    private ReceivePort Serve(ServerStubs target, Protid? protid)
    {
        var port = ReceivePort.Create(target, Dispatch);
        _ports[port] = target;
        if (protid is not null)
        {
            port.NoSenders += p =>
            {
                if (_ports.TryRemove(p, out _)) { p.Dispose(); protid.Release(); }
            };
        }
        return port;
    }

    internal PortName ServeProtid(Protid p) => Serve(new Port(this, p), p).Name;

    public void Dispose()
    {
        foreach (var p in _ports.Keys) p.Dispose();
        _ports.Clear();
    }

    internal static Identity IdentityOf(ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids) => new(uids, gids, uids, gids);

    /// <summary>The control port: fsys_getroot opens the root for the ids the caller vouches for.</summary>
    private sealed class Control(MiniFs fs) : ServerStubs
    {
        public override Errno fsys_getroot(PortName dotdotNode, ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, OpenFlags flags,
            out RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight file)
        {
            doRetry = RetryType.Normal; retryNameCount = 0; file = default;
            if (!dotdotNode.IsNull) SendRight.FromName(dotdotNode)?.Dispose();
            var e = Calls.Open(IdentityOf(genUids, genGids), fs.Root, flags & ~(OpenFlags.Create | OpenFlags.Exclusive), false, out var p);
            if (e != Errno.OK) return e;
            file = PortRight.MakeSend(fs.ServeProtid(p!));
            return Errno.OK;
        }
    }

    /// <summary>A node made by dir_mkfile, not yet linked: what file_set_translator stores decides what dir_link makes.</summary>
    private sealed class Pending(FileMode mode) : ServerStubs
    {
        public readonly FileMode Mode = mode;
        public byte[]? Translator;

        public override Errno file_set_translator(TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags oldtransFlags, ReadOnlySpan<byte> passive, PortName active)
        {
            if (!active.IsNull) SendRight.FromName(active)?.Dispose();
            if ((passiveFlags & TransFlags.Set) != 0) Translator = passive.ToArray();
            return Errno.OK;
        }

        public override Errno io_stat(out Stat statInfo) { statInfo = default; statInfo.Mode = FileMode.Regular | Mode; return Errno.OK; }
    }

    /// <summary>A protid port.</summary>
    private sealed class Port(MiniFs fs, Protid p) : ServerStubs
    {
        private Node N => p.Node;

        private static T? Take<T>(PortName name) where T : class
        {
            var t = IpcSpace.Current.LocalTarget(name) as T;
            SendRight.FromName(name)?.Dispose(); // the reference the message carried
            return t;
        }

        public override Errno io_stat(out Stat statInfo) => Calls.IoStat(p, out statInfo);

        public override Errno io_read(Span<byte> data, out int dataCount, long offset, int amount)
        {
            var e = Calls.IoRead(p, offset, data[..Math.Min(Math.Max(amount, 0), data.Length)], out dataCount);
            if (e != Errno.OK) dataCount = 0;
            return e;
        }

        public override Errno io_write(ReadOnlySpan<byte> data, long offset, out int amount) => Calls.IoWrite(p, offset, data, out amount);

        public override Errno io_seek(long offset, SeekWhence whence, out long newp) => Calls.IoSeek(p, offset, (Whence)(int)whence, out newp);

        public override Errno io_restrict_auth(out PortName newObject, ReadOnlySpan<uint> uids, ReadOnlySpan<uint> gids)
        {
            Interlocked.Increment(ref fs._restricts);
            newObject = fs.ServeProtid(p.WithIdentity(p.User.Restrict(uids, gids)));
            return Errno.OK;
        }

        public override Errno io_duplicate(out PortName newport) { newport = fs.ServeProtid(p.Duplicate()); return Errno.OK; }

        public override Errno file_chmod(FileMode newMode) => Calls.FileChmod(p, N, newMode);
        public override Errno file_chown(uint newOwner, uint newGroup) => Calls.FileChown(p, N, newOwner, newGroup);
        public override Errno file_utimens(in TimeSpec newAtime, in TimeSpec newMtime) => Calls.FileUtimens(p, N, newAtime, newMtime);
        public override Errno file_set_size(long newSize) => p.File.CanWrite ? Calls.FileSetSize(p, newSize) : Calls.Truncate(p, N, newSize);
        public override Errno file_statfs(out StatFs info) => Calls.FileStatfs(p, out info);
        public override Errno file_sync(bool wait, bool omitMetadata) => Calls.FileSync(p, omitMetadata);
        public override Errno file_syncfs(bool wait, bool doChildren) => Errno.OK;

        public override Errno file_check_access(out OpenFlags allowed)
        {
            allowed = OpenFlags.None;
            if (Calls.FileCheckAccess(p, N, Access.Read) == Errno.OK) allowed |= OpenFlags.Read;
            if (Calls.FileCheckAccess(p, N, Access.Write) == Errno.OK) allowed |= OpenFlags.Write;
            if (Calls.FileCheckAccess(p, N, Access.Exec) == Errno.OK) allowed |= OpenFlags.Exec;
            return Errno.OK;
        }

        public override Errno file_get_translator(Span<byte> translator, out int translatorCount)
        {
            translatorCount = 0;
            var e = Calls.FileGetTranslator(p, N, out var argz);
            if (e != Errno.OK) return e;
            if (argz.Length > translator.Length) return Errno.ERANGE;
            argz.Span.CopyTo(translator);
            translatorCount = argz.Length;
            return Errno.OK;
        }

        public override Errno file_get_xattr(ReadOnlySpan<byte> name, int size, Span<byte> value, out int valueCount, out int length)
        {
            valueCount = 0; length = 0;
            var e = Calls.Getxattr(p, N, name, default, out length);
            if (e != Errno.OK || size == 0) return e;
            if (length > size || length > value.Length) return Errno.ERANGE;
            e = Calls.Getxattr(p, N, name, value[..length], out valueCount);
            return e;
        }

        public override Errno file_set_xattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags) => Calls.Setxattr(p, N, name, value, (SdkXattrFlags)(int)flags);
        public override Errno file_remove_xattr(ReadOnlySpan<byte> name) => Calls.Removexattr(p, N, name);

        public override Errno file_list_xattr(int size, Span<byte> names, out int namesCount, out int length)
        {
            namesCount = 0; length = 0;
            var e = Calls.Listxattr(p, N, default, out length);
            if (e != Errno.OK || size == 0) return e;
            if (length > size || length > names.Length) return Errno.ERANGE;
            return Calls.Listxattr(p, N, names[..length], out namesCount);
        }

        public override Errno dir_lookup(ReadOnlySpan<byte> fileName, OpenFlags flags, FileMode mode, out RetryType doRetry,
            Span<byte> retryName, out int retryNameCount, out PortRight result)
        {
            Interlocked.Increment(ref fs._lookups);
            doRetry = RetryType.Normal; retryNameCount = 0; result = default;
            var e = Calls.DirLookup(p, fs.Root, fileName, flags, mode, out var r);
            if (e != Errno.OK) return e;
            if (r.Translated && r.Node?.ActiveTranslator is SendRight control)
            {
                Span<byte> rn = stackalloc byte[HurdLimits.RetryNameMax];
                var rootFlags = r.RetryName.Length == 0 ? flags & ~(OpenFlags.Create | OpenFlags.Exclusive) : OpenFlags.None;
                e = new FsysClient(control).fsys_getroot(PortName.Null, p.User.Uids, p.User.Gids, rootFlags, out _, rn, out _, out var root);
                if (e != Errno.OK) return e;
                r.RetryName.CopyTo(retryName);
                retryNameCount = r.RetryName.Length;
                result = PortRight.MoveSend(root.Name);
                return Errno.OK;
            }
            if (!r.IsDone)
            {
                doRetry = (RetryType)(int)r.Retry;
                r.RetryName.CopyTo(retryName);
                retryNameCount = r.RetryName.Length;
                return Errno.OK;
            }
            e = Calls.Open(p.User, r.Node!, flags, r.Created, out var np);
            if (e != Errno.OK) return e;
            result = PortRight.MakeSend(fs.ServeProtid(np!));
            return Errno.OK;
        }

        private sealed class Sink(int skip, int max) : IDirEntrySink
        {
            public readonly List<(byte[] Name, ulong Ino, FileMode Type)> Entries = [];
            private int _seen;
            public bool Add(ReadOnlySpan<byte> name, ulong ino, FileMode type, long nextCookie, Node? node)
            {
                if (_seen++ < skip) return true;
                if (max >= 0 && Entries.Count >= max) return false;
                Entries.Add((name.ToArray(), ino, type));
                return true;
            }
        }

        public override Errno dir_readdir(Span<byte> data, out int dataCount, int entry, int nentries, int bufsiz, out int amount)
        {
            dataCount = 0; amount = 0;
            var sink = new Sink(entry, nentries);
            var e = Calls.DirReaddir(p, 0, sink);
            if (e != Errno.OK) return e;
            var w = new DirentWriter(bufsiz > 0 ? data[..Math.Min(bufsiz, data.Length)] : data);
            foreach (var (name, ino, type) in sink.Entries)
                if (!w.TryAdd(ino, (HurdDirentType)((int)type.Type() >> 12), name)) break;
            dataCount = w.Length;
            amount = w.Count;
            return Errno.OK;
        }

        public override Errno dir_mkdir(ReadOnlySpan<byte> name, FileMode mode) => Calls.DirMkdir(p, name, mode, out _);
        public override Errno dir_rmdir(ReadOnlySpan<byte> name) => Calls.DirRmdir(p, name);
        public override Errno dir_unlink(ReadOnlySpan<byte> name) => Calls.DirUnlink(p, name);

        public override Errno dir_rename(ReadOnlySpan<byte> oldname, PortName newdirectory, ReadOnlySpan<byte> newname, bool excl)
        {
            var to = Take<Port>(newdirectory);
            if (to is null) return Errno.EXDEV;
            return Calls.DirRename(p, oldname, to.Protid, newname, excl ? RenameFlags.NoReplace : RenameFlags.None);
        }

        public Protid Protid => p;

        public override Errno dir_mkfile(OpenFlags flags, FileMode mode, out PortName newnode)
        {
            newnode = default;
            var pending = new Pending(mode & FileMode.PermMask);
            var port = ReceivePort.Create<ServerStubs>(pending, Dispatch);
            fs._ports[port] = pending;
            port.NoSenders += x => { if (fs._ports.TryRemove(x, out _)) x.Dispose(); };
            newnode = port.Name;
            return Errno.OK;
        }

        public override Errno dir_link(PortName file, ReadOnlySpan<byte> name, bool excl)
        {
            var target = IpcSpace.Current.LocalTarget(file);
            SendRight.FromName(file)?.Dispose();
            if (target is Port other)
            {
                if (!excl && Calls.DirUnlink(p, name) is var u && u != Errno.OK && u != Errno.ENOENT) return u;
                return Calls.DirLink(p, other.Protid.Node, name);
            }
            if (target is not Pending pend) return Errno.EXDEV;
            var argz = pend.Translator ?? [];
            var parts = Encoding.UTF8.GetString(argz).TrimEnd('\0').Split('\0');
            switch (parts[0])
            {
                case "": return Calls.DirMknod(p, name, FileMode.Regular | pend.Mode, 0, out _);
                case ShortCircuitTranslators.Symlink: return Calls.DirSymlink(p, name, argz.AsSpan(parts[0].Length + 1, argz.Length - parts[0].Length - 2), out _);
                case ShortCircuitTranslators.Fifo: return Calls.DirMknod(p, name, FileMode.Fifo | pend.Mode, 0, out _);
                case ShortCircuitTranslators.Socket: return Calls.DirMknod(p, name, FileMode.Socket | pend.Mode, 0, out _);
                case ShortCircuitTranslators.CharDevice or ShortCircuitTranslators.BlockDevice when parts.Length == 3:
                    ulong rdev = (ulong)(uint.Parse(parts[1]) << 8 | uint.Parse(parts[2]));
                    var type = parts[0] == ShortCircuitTranslators.CharDevice ? FileMode.CharDevice : FileMode.BlockDevice;
                    return Calls.DirMknod(p, name, type | pend.Mode, rdev, out _);
                default: return Errno.EOPNOTSUPP;
            }
        }
    }
}
