using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Ipc.Abi;

namespace Hurd.Fuse.Tests;

/// <summary>INTERRUPT on a real mount: a caller killed by a signal while the daemon works on its request.</summary>
[Collection("mounts")]
public class InterruptTests
{
    /// <summary>Root with one file, "slow", whose READ waits until the request is interrupted.</summary>
    private sealed class SlowFs : FuseFileSystem
    {
        public readonly ManualResetEventSlim ReadStarted = new();
        public readonly ManualResetEventSlim Interrupted = new();

        public override Errno Lookup(in FuseContext ctx, ReadOnlySpan<byte> name, out EntryOut entry)
        {
            entry = default;
            if (ctx.NodeId != 1 || !name.SequenceEqual("slow"u8)) return Errno.ENOENT;
            entry.NodeId = 2;
            entry.Attr = new FuseAttr { Ino = 2, Mode = 0x8124, Nlink = 1, Size = 4096 };
            return Errno.OK;
        }

        public override Errno Getattr(in FuseContext ctx, in GetattrIn input, out AttrOut attr)
        {
            attr = default;
            attr.Attr = ctx.NodeId == 1 ? new FuseAttr { Ino = 1, Mode = 0x41ED, Nlink = 2 } : new FuseAttr { Ino = 2, Mode = 0x8124, Nlink = 1, Size = 4096 };
            return Errno.OK;
        }

        public override Errno Open(in FuseContext ctx, in OpenIn input, out OpenOut open)
        {
            open = new OpenOut { OpenFlags = OpenReplyFlags.DirectIo };
            return Errno.OK;
        }

        public override Errno Read(in FuseContext ctx, in ReadIn input, Span<byte> data, out int count)
        {
            count = 0;
            ReadStarted.Set();
            if (!ctx.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(30))) return Errno.EIO;
            Interrupted.Set();
            return Errno.EINTR;
        }
    }

    [Fact(Timeout = 120000)]
    public async Task SignalledReader_FiresTheRequestsCancellationToken()
    {
        if (!TestMount.CanMount) return;
        string dir = TestMount.NewMountPoint();
        var fs = new SlowFs();
        try
        {
            using var session = FuseSession.Mount(fs, new FuseMountOptions { MountPoint = dir, Subtype = TestMount.Subtype, Readers = 2 });
            // cat blocks in read(2); SIGTERM makes the kernel send INTERRUPT for its READ.
            var cat = TestMount.Run(dir, "timeout", "-s", "TERM", "60", "cat", "slow");
            Assert.True(fs.ReadStarted.Wait(TimeSpan.FromSeconds(30)), "READ never arrived");
            await TestMount.Run(dir, "pkill", "-TERM", "-f", "^cat slow$");
            Assert.True(fs.Interrupted.Wait(TimeSpan.FromSeconds(30)), "the READ was not interrupted");
            var r = await cat.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, r.ExitCode);
            // The session keeps serving after the undeliverable reply.
            Assert.Equal("4096\n", await TestMount.Sh(dir, "stat -c %s slow"));
        }
        finally { TestMount.Cleanup(dir); }
    }
}
