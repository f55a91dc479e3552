using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Tmpfs;
using Hurd.Translators;
using Hurd.Translators.Serving;
using Xunit;

namespace Hurd.Translators.Tests.Serving;

/// <summary>
/// The node reference table of a session port (ProtidPort.NodeRefs: numbers that index a slot array, found with no
/// lock) and the in-process io_read that writes straight into the caller's buffer, through the serving layer.
/// </summary>
public sealed class NodeRefTableTests
{
    private const int T = 60_000;

    private static (TmpfsFileSystem Tmp, ServedFilesystem Fs, SendRight Session) Serve(int files)
    {
        var tmp = new TmpfsFileSystem();
        var root = new PosixClient(tmp.Root, Identity.Root);
        for (int i = 0; i < files; i++) Assert.Equal(Errno.OK, root.WriteFile($"f{i}", $"file {i}"));
        var fs = new ServedFilesystem(tmp.Root, "tmpfs");
        Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.None, out var session));
        return (tmp, fs, session!);
    }

    [Fact(Timeout = T)]
    public async Task ReleasedNumbers_StayStale_WhenTheirSlotsAreReused()
    {
        await Task.Yield();
        var (_, fs, session) = Serve(100);
        using var _fs = fs;
        var ext = new FsExtClient(session);
        try
        {
            // More references than the table's first array holds (it grows), then every other one released.
            var refs = new ulong[100];
            for (int i = 0; i < refs.Length; i++)
            {
                Assert.Equal(Errno.OK, ext.noderef_lookup(0, Encoding.UTF8.GetBytes($"f{i}"), OpenFlags.NoLink, 0, false, out _, out refs[i], out var st, out _));
                Assert.Equal($"file {i}".Length, st.Size);
            }
            Assert.Equal(refs.Length, refs.Distinct().Count());
            Assert.DoesNotContain(0ul, refs);
            for (int i = 0; i < refs.Length; i += 2) Assert.Equal(Errno.OK, ext.noderef_release(refs[i]));
            Assert.Equal(50, fs.NodeRefCount);

            // New references take the freed slots, under new numbers: the old numbers name nothing.
            var again = new ulong[50];
            for (int i = 0; i < again.Length; i++)
                Assert.Equal(Errno.OK, ext.noderef_lookup(0, Encoding.UTF8.GetBytes($"f{2 * i}"), OpenFlags.NoLink, 0, false, out _, out again[i], out _, out _));
            Assert.Empty(again.Intersect(refs));
            for (int i = 0; i < refs.Length; i += 2)
            {
                Assert.Equal(Errno.ESTALE, ext.noderef_stat(refs[i], out _));
                Assert.Equal(Errno.ESTALE, ext.noderef_release(refs[i]));
            }
            // Numbers never handed out: beyond the table, and a live slot with another sequence number.
            Assert.Equal(Errno.ESTALE, ext.noderef_stat(0xFFFF_FFFFul, out _));
            Assert.Equal(Errno.ESTALE, ext.noderef_stat(again[0] ^ (1ul << 40), out _));
            for (int i = 1; i < refs.Length; i += 2)
            {
                Assert.Equal(Errno.OK, ext.noderef_stat(refs[i], out var st));
                Assert.Equal($"file {i}".Length, st.Size);
            }
            for (int i = 0; i < again.Length; i++)
            {
                Assert.Equal(Errno.OK, ext.noderef_stat(again[i], out var st));
                Assert.Equal($"file {2 * i}".Length, st.Size);
            }
            Assert.Equal(100, fs.NodeRefCount);
        }
        finally { session.Dispose(); }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (fs.NodeRefCount != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, fs.NodeRefCount);
    }

    [Fact(Timeout = T)]
    public async Task ConcurrentLookupStatRelease_LeavesNoReferenceAndNoOpenFile()
    {
        await Task.Yield();
        var (tmp, fs, session) = Serve(16);
        using var _fs = fs;
        var ext = new FsExtClient(session);
        int failures = 0;
        try
        {
            // Four threads make, use and release references on one session while the table grows and reuses slots;
            // a fifth stats numbers the others are releasing (ESTALE or OK, never another node).
            var live = new ulong[64];
            var threads = Enumerable.Range(0, 5).Select(t => new Thread(() =>
            {
                var name = new byte[8];
                for (int i = 0; i < 2000; i++)
                {
                    if (t == 4)
                    {
                        ulong r = Volatile.Read(ref live[i % live.Length]);
                        if (r == 0) continue;
                        var e = ext.noderef_stat(r, out var st);
                        if (e == Errno.OK ? !st.Mode.IsRegular() : e != Errno.ESTALE) Interlocked.Increment(ref failures);
                        continue;
                    }
                    int f = (t * 7 + i) % 16;
                    int len = Encoding.UTF8.GetBytes($"f{f}", name);
                    if (ext.noderef_lookup(0, name.AsSpan(0, len), OpenFlags.NoLink, 0, false, out _, out ulong n, out var s0, out _) != Errno.OK
                        || s0.Size != $"file {f}".Length)
                    { Interlocked.Increment(ref failures); continue; }
                    Volatile.Write(ref live[(t * 16 + i) % live.Length], n);
                    if (ext.noderef_stat(n, out var s1) != Errno.OK || s1.Ino != s0.Ino) Interlocked.Increment(ref failures);
                    if (ext.noderef_release(n) != Errno.OK) Interlocked.Increment(ref failures);
                }
            })).ToArray();
            foreach (var th in threads) th.Start();
            foreach (var th in threads) th.Join();
            Assert.Equal(0, failures);
            Assert.Equal(0, fs.NodeRefCount);
        }
        finally { session.Dispose(); }
        // Released references close their peropens a moment later; the session's own goes with the port.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (fs.ProtidPortCount != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, fs.ProtidPortCount);
        var root = new PosixClient(tmp.Root, Identity.Root);
        Assert.Equal(Errno.OK, root.Resolve("f0", out var node));
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (node!.OpenCount != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, node.OpenCount);
    }

    [Fact(Timeout = T)]
    public async Task InProcessRead_FillsTheCallersBuffer_AndShortensToIt()
    {
        await Task.Yield();
        var (tmp, fs, session) = Serve(0);
        using var _fs = fs;
        var root = new PosixClient(tmp.Root, Identity.Root);
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(Errno.OK, root.WriteFile("big", data));
        var ext = new FsExtClient(session);
        try
        {
            Assert.Equal(Errno.OK, ext.noderef_lookup(0, "big"u8, OpenFlags.Read, 0, true, out _, out ulong r, out _, out var name));
            using var file = SendRight.FromName(name)!;
            var io = new IoClient(file);
            var buf = new byte[200_000];
            Assert.Equal(Errno.OK, io.io_read(buf.AsSpan(1000, 131072), out int n, 5, 131072));
            Assert.Equal(131072, n);
            Assert.True(buf.AsSpan(1000, n).SequenceEqual(data.AsSpan(5, n)));
            Assert.True(buf.AsSpan(0, 1000).IndexOfAnyExcept((byte)0) < 0); // nothing written before the span
            Assert.True(buf.AsSpan(1000 + n).IndexOfAnyExcept((byte)0) < 0); // nor after it
            // amount beyond the buffer: in process the server gets the buffer, so the read is short (not ERANGE).
            Assert.Equal(Errno.OK, io.io_read(buf.AsSpan(0, 100), out n, 299_950, 4096));
            Assert.Equal(50, n);
            Assert.True(buf.AsSpan(0, 50).SequenceEqual(data.AsSpan(299_950)));
            Assert.Equal(Errno.OK, io.io_read(buf.AsSpan(0, 100), out n, 0, 4096));
            Assert.Equal(100, n);
            // End of file, an empty buffer, an error.
            Assert.Equal(Errno.OK, io.io_read(buf, out n, 300_000, 10));
            Assert.Equal(0, n);
            Assert.Equal(Errno.OK, io.io_read(default, out n, 0, 0));
            Assert.Equal(0, n);
            Assert.Equal(Errno.EINVAL, io.io_read(buf, out n, 0, -1));
            Assert.Equal(0, n);
            Assert.Equal(Errno.OK, ext.noderef_release(r));
        }
        finally { session.Dispose(); }
    }

    [Fact(Timeout = T)]
    public async Task LookupKnown_AnswersWithTheReferenceHeld()
    {
        await Task.Yield();
        var (_, fs, session) = Serve(2);
        using var _fs = fs;
        var ext = new FsExtClient(session);
        try
        {
            Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f0"u8, OpenFlags.NoLink, 0, false, out bool retry, out ulong a, out bool known, out var st, out _));
            Assert.False(retry);
            Assert.False(known);
            Assert.Equal("file 0".Length, st.Size);
            Assert.Equal(1, fs.NodeRefCount);
            Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f0"u8, OpenFlags.NoLink, 0, false, out _, out ulong again, out known, out var st2, out _));
            Assert.True(known);
            Assert.Equal(a, again);
            Assert.Equal(st.Ino, st2.Ino);
            Assert.Equal(1, fs.NodeRefCount); // nothing new to release

            // With open: a port opened as noderef_lookup's, the known reference as the node.
            Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f0"u8, OpenFlags.Read, 0, true, out _, out again, out known, out _, out var port));
            Assert.True(known);
            Assert.Equal(a, again);
            using (var opened = SendRight.FromName(port))
            {
                var buf = new byte[16];
                Assert.Equal(Errno.OK, new IoClient(opened!).io_read(buf, out int n, 0, 16));
                Assert.Equal("file 0", Encoding.UTF8.GetString(buf, 0, n));
            }

            // Plain noderef_lookup still makes its own; the other node has none yet.
            Assert.Equal(Errno.OK, ext.noderef_lookup(0, "f0"u8, OpenFlags.NoLink, 0, false, out _, out ulong b, out _, out _));
            Assert.NotEqual(a, b);
            Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f1"u8, OpenFlags.NoLink, 0, false, out _, out ulong c, out known, out _, out _));
            Assert.False(known);
            Assert.Equal(3, fs.NodeRefCount);

            // Once released, the number is not given out again: a new reference.
            Assert.Equal(Errno.OK, ext.noderef_release(b));
            Assert.Equal(Errno.OK, ext.noderef_release(a));
            Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f0"u8, OpenFlags.NoLink, 0, false, out _, out ulong d, out known, out _, out _));
            Assert.False(known);
            Assert.NotEqual(a, d);
            Assert.NotEqual(b, d);
            Assert.Equal(Errno.ENOENT, ext.noderef_lookup_known(0, "none"u8, OpenFlags.NoLink, 0, false, out _, out _, out known, out _, out _));
            Assert.False(known);

            // Another session's reference to the node is not this one's.
            Assert.Equal(Errno.OK, fs.GetRoot(Identity.Root, OpenFlags.None, out var other));
            using (other)
            {
                var ext2 = new FsExtClient(other!);
                Assert.Equal(Errno.OK, ext2.noderef_lookup_known(0, "f0"u8, OpenFlags.NoLink, 0, false, out _, out ulong e, out known, out _, out _));
                Assert.False(known);
                Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f0"u8, OpenFlags.NoLink, 0, false, out _, out ulong f, out known, out _, out _));
                Assert.False(known); // the node remembers the other session's last; a new one here
                Assert.Equal(Errno.OK, ext.noderef_lookup_known(0, "f0"u8, OpenFlags.NoLink, 0, false, out _, out ulong g, out known, out _, out _));
                Assert.True(known);
                Assert.Equal(f, g);
                Assert.Equal(Errno.OK, ext2.noderef_release(e));
            }
            Assert.Equal(Errno.OK, ext.noderef_release(c));
        }
        finally { session.Dispose(); }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (fs.NodeRefCount != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, fs.NodeRefCount);
    }
}
