using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;

namespace Hurd.Interfaces.Tests;

/// <summary>
/// Every strict prefix of a well-formed request is malformed (the dispatch answers EBADMSG
/// without calling the server), and every strict prefix of a well-formed OK reply makes the
/// proxy return EBADMSG: no prefix is silently accepted with default values.
/// </summary>
public class TruncationTests
{
    public static TheoryData<string, uint, string> Requests => new()
    {
        { "io", IoServer.Ids.io_read, "10000000 00000000 00100000" },
        { "io", IoServer.Ids.io_write, "05000000 68656c6c 6f000000 00000000 ffffffff ffffffff" },
        { "fs", FsServer.Ids.dir_lookup, "03000000 612f6200 81000000 00000000" },
        { "fsys", FsysServer.Ids.fsys_getroot, "00000000 04000000 e8030000 08000000 e8030000 1b000000 01000000" },
        { "fs", FsServer.Ids.file_set_translator, "04000000 00000000 04000000 0c000000 2f687572 642f6865 6c6c6f00 ffffffff" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Requests))]
    public Task EveryPrefixOfARequest_IsEBADMSG(string subsystem, uint id, string hex) => T.Run(() =>
    {
        var full = Hex.Bytes(hex);
        var rights = new[] { new RightDescriptor(new PortName(5), Disposition.CopySend) };
        for (int len = 0; len <= full.Length; len++)
        {
            var io = new FakeIo();
            var fs = new FakeFs();
            var fsys = new FakeFsys();
            var req = new RpcRequest
            {
                Id = id,
                Body = new MessageReader(full.AsSpan(0, len), rights),
                ReplyBody = new MessageWriter(new byte[4096], new RightDescriptor[8]),
                Context = new TestContext(),
            };
            var r = subsystem switch
            {
                "io" => IoServer.Dispatch(io, ref req),
                "fs" => FsServer.Dispatch(fs, ref req),
                _ => FsysServer.Dispatch(fsys, ref req),
            };
            int calls = io.Calls + fs.Calls + fsys.Calls;
            if (len < full.Length)
            {
                Assert.True(r == Errno.EBADMSG, $"prefix of {len} bytes gave {r}");
                Assert.Equal(0, calls);
                Assert.Equal(0, req.ReplyBody.Position);
            }
            else
            {
                Assert.NotEqual(Errno.EBADMSG, r);
                Assert.Equal(1, calls);
            }
        }
    });

    [Fact(Timeout = 60_000)]
    public Task EveryPrefixOfAnOkReply_IsEBADMSGForTheProxy() => T.Run(() =>
    {
        // dir_lookup's golden reply: code, retry name "rest", retry Normal, right index 0.
        var full = Hex.Bytes("00000000 04000000 72657374 01000000 00000000");
        for (int len = 4; len < full.Length; len++)
        {
            var fs = new FakeFs();
            var t = new TestTransport((ref RpcRequest r) => FsServer.Dispatch(fs, ref r)) { ForcedReply = full[..len] };
            var e = new FsClient(t).dir_lookup("a"u8, OpenFlags.Read, 0, out var retry, new byte[64], out int n, out var result);
            Assert.True(e == Errno.EBADMSG, $"prefix of {len} bytes gave {e}");
            Assert.Equal(default, retry);
            Assert.Equal(0, n);
            Assert.True(result.IsNull);
        }
    });
}
