using System.Collections.Concurrent;
using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Tmpfs;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Tests.Serving;

/// <summary>
/// dir_notice_changes / file_notice_changes over the serving layer (tmpfs nodes, in-process transport): the NULL
/// message first, then one message per change with the next tick, libdiskfs's kinds and names; refusals; a listener
/// that goes away is dropped and costs the changers nothing.
/// </summary>
public class ChangeNoticeTests
{
    const int T = 30_000;

    /// <summary>A port of this process that records the fs_notify messages it gets, one line each.</summary>
    internal sealed class Listener : IFsNotify, IDisposable
    {
        readonly BlockingCollection<string> _messages = new();
        public readonly ReceivePort Port;

        public Listener() { Port = ReceivePort.Create(this, FsNotifyServer.Dispatch); }

        public Errno dir_changed(uint tickno, DirChangedType change, ReadOnlySpan<byte> name)
        {
            _messages.Add($"{tickno} {change} {Encoding.UTF8.GetString(name)}".TrimEnd());
            return Errno.OK;
        }

        public Errno file_changed(uint tickno, FileChangedType change, long start, long end)
        {
            _messages.Add($"{tickno} {change} {start} {end}");
            Gate?.Wait(60_000);
            return Errno.OK;
        }

        /// <summary>When set, file_changed waits for it: a listener that stops reading.</summary>
        public ManualResetEventSlim? Gate;

        /// <summary>The next message (waits up to 10 s: a remote sender delivers on this process's IPC threads).</summary>
        public string Next(int timeoutMs = 10_000) => _messages.TryTake(out var m, timeoutMs) ? m : "(none)";

        /// <summary>The messages that came, without waiting.</summary>
        public List<string> Drain()
        {
            var l = new List<string>();
            while (_messages.TryTake(out var m)) l.Add(m);
            return l;
        }

        /// <summary>Registers this listener on <paramref name="node"/>: dir_notice_changes or file_notice_changes.</summary>
        public Errno Register(SendRight node, bool dir)
        {
            using var send = Port.MakeSend();
            var fs = new FsClient(node);
            return dir ? fs.dir_notice_changes(send.Name) : fs.file_notice_changes(send.Name);
        }

        public void Dispose() => Port.Dispose();
    }

    static (ServedFilesystem Fs, SendRight Root) Serve()
    {
        var fs = new ServedFilesystem(new TmpfsFileSystem(TmpfsOptions.Default).Root, "tmpfs");
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.Read, out var root));
        return (fs, root!);
    }

    static SendRight Open(SendRight dir, string path, OpenFlags flags)
    {
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = new FsClient(dir).dir_lookup(Encoding.UTF8.GetBytes(path), flags, (FileMode)0x1A4, out _, retry, out _, out var port);
        Assert.Equal(Errno.OK, e);
        return SendRight.FromName(port.Name)!;
    }

    [Fact(Timeout = T)]
    public async Task DirectoryChanges_ComeWithTheNextTickAndLibdiskfsKinds()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        using (var l = new Listener())
        {
            Assert.Equal(Errno.OK, l.Register(root, dir: true));
            Assert.Equal("0 Null", l.Next());
            var dir = new FsClient(root);

            Open(root, "f", OpenFlags.Write | OpenFlags.Create).Dispose();
            Assert.Equal("1 New f", l.Next());
            Assert.Equal(Errno.OK, dir.dir_mkdir("d"u8, (FileMode)0x1ED));
            Assert.Equal("2 New d", l.Next());
            Assert.Equal(Errno.OK, dir.dir_rename("f"u8, root.Name, "g"u8, false));
            Assert.Equal("3 Unlink f", l.Next());
            Assert.Equal("4 New g", l.Next());
            Open(root, "h", OpenFlags.Write | OpenFlags.Create).Dispose();
            Assert.Equal("5 New h", l.Next());
            Assert.Equal(Errno.OK, dir.dir_rename("g"u8, root.Name, "h"u8, false)); // replaces h
            Assert.Equal("6 Unlink g", l.Next());
            Assert.Equal("7 Renumber h", l.Next());
            using (var h = Open(root, "h", OpenFlags.Read))
                Assert.Equal(Errno.OK, dir.dir_link(h.Name, "hl"u8, true));
            Assert.Equal("8 New hl", l.Next());
            Assert.Equal(Errno.OK, dir.dir_unlink("h"u8));
            Assert.Equal("9 Unlink h", l.Next());

            // A name made two levels down is told to the directory that holds it, not to the one the path started from.
            using (var d = Open(root, "d", OpenFlags.Read))
            using (var ld = new Listener())
            {
                Assert.Equal(Errno.OK, ld.Register(d, dir: true));
                Assert.Equal("0 Null", ld.Next());
                Open(root, "d/x", OpenFlags.Write | OpenFlags.Create).Dispose();
                Assert.Equal("1 New x", ld.Next());
                Assert.Equal(Errno.OK, new FsClient(d).dir_unlink("x"u8));
                Assert.Equal("2 Unlink x", ld.Next());
            }
            Assert.Equal(Errno.OK, dir.dir_rmdir("d"u8));
            Assert.Equal("10 Unlink d", l.Next());
            // Failed changes say nothing.
            Assert.Equal(Errno.ENOENT, dir.dir_unlink("missing"u8));
            Assert.Empty(l.Drain());
        }
    }

    [Fact(Timeout = T)]
    public async Task FileChanges_WritesSizesAttributesAndAllocation_NotTimesAlone()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        using (var l = new Listener())
        using (var f = Open(root, "f", OpenFlags.Read | OpenFlags.Write | OpenFlags.Create))
        {
            Assert.Equal(Errno.OK, l.Register(f, dir: false));
            Assert.Equal("0 Null 0 0", l.Next());
            var io = new IoClient(f);
            var file = new FsClient(f);
            Assert.Equal(Errno.OK, io.io_write("hello"u8, 0, out _));
            Assert.Equal("1 Write 0 5", l.Next());
            Assert.Equal(Errno.OK, file.file_set_size(2));
            Assert.Equal("2 Truncate 0 2", l.Next());
            Assert.Equal(Errno.OK, file.file_set_size(10));
            Assert.Equal("3 Extend 0 10", l.Next());
            Assert.Equal(Errno.OK, file.file_chmod((FileMode)0x180));
            Assert.Equal("4 Meta 0 0", l.Next());
            var now = new TimeSpec { Sec = 1_000_000, Nsec = 0 };
            Assert.Equal(Errno.OK, file.file_utimens(now, now));
            Assert.Empty(l.Drain()); // times alone
            Assert.Equal(Errno.OK, io.io_write("ab"u8, 3, out _));
            Assert.Equal("5 Write 3 5", l.Next());
            Assert.Equal(Errno.OK, file.file_set_xattr("user.k"u8, "v"u8, 0));
            Assert.Equal("6 Meta 0 0", l.Next());
            Assert.Equal(Errno.OK, file.file_fallocate(FallocateFlags.None, 0, 8192));
            Assert.Equal("7 Extend 0 8192", l.Next());
            Assert.Equal(Errno.OK, file.file_fallocate(FallocateFlags.KeepSize | FallocateFlags.PunchHole, 0, 4096));
            Assert.Equal("8 Write 0 4096", l.Next());
        }
    }

    [Fact(Timeout = T)]
    public async Task Refusals_AListenerThatIsGone_IsDropped_AndTheLimit()
    {
        await Task.Yield();
        var (fs, root) = Serve();
        using (fs) using (root)
        {
            using var l = new Listener();
            using (var f = Open(root, "f", OpenFlags.Write | OpenFlags.Create))
            {
                Assert.Equal(Errno.ENOTDIR, l.Register(f, dir: true));
                Assert.Equal(Errno.EBADF, l.Register(f, dir: false)); // not open for reading
            }
            using (var unread = Open(root, ".", OpenFlags.None))
                Assert.Equal(Errno.EBADF, l.Register(unread, dir: true));
            Assert.Equal(0, fs.Notices.Registrations);
            Assert.Empty(l.Drain());

            var gone = new Listener();
            Assert.Equal(Errno.OK, gone.Register(root, dir: true));
            Assert.Equal(Errno.OK, l.Register(root, dir: true));
            Assert.Equal(2, fs.Notices.Registrations);
            gone.Dispose();
            // The changes go on; the dead port leaves the list (at its dead-name notification or the next send).
            Assert.Equal(Errno.OK, new FsClient(root).dir_mkdir("d"u8, (FileMode)0x1ED));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (fs.Notices.Registrations != 1 && DateTime.UtcNow < deadline) await Task.Delay(10);
            Assert.Equal(1, fs.Notices.Registrations);
            Assert.Equal(["0 Null", "1 New d"], l.Drain());

            // A bounded number per node: a client cannot make every change cost unbounded sends.
            var many = new List<Listener>();
            try
            {
                for (int i = 1; i < ChangeNotices.MaxPerNode; i++)
                {
                    many.Add(new Listener());
                    Assert.Equal(Errno.OK, many[^1].Register(root, dir: true));
                }
                many.Add(new Listener());
                Assert.Equal(Errno.ENOSPC, many[^1].Register(root, dir: true));
                Assert.Equal(ChangeNotices.MaxPerNode, fs.Notices.Registrations);
                Assert.Equal(Errno.OK, many[^1].Register(root, dir: false)); // files are counted apart
            }
            finally { foreach (var x in many) x.Dispose(); }
        }
    }
}
