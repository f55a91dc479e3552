namespace Hurd.Cli.Commands;

/// <summary>
/// The options of `hurd settrans`, as the Hurd's utils/settrans.c takes them (hurd.md §1):
/// -a active, -p passive (the default), -s start the passive one, -c create NODE, -x exclusive,
/// -g make the old active translator go away, -k keep it, -f/-R/-S goaway flags (force,
/// recurse, no sync), -o orphan, -t SEC startup timeout, -L/--stack.
/// </summary>
public sealed record SettransOptions
{
    public bool Active;
    public bool Passive;
    /// <summary>-p was given (not just implied): on a plain Linux node, also record the xattr.</summary>
    public bool PassiveExplicit;
    public bool Start;
    public bool Create;
    public bool Exclusive;
    public bool GoAway;
    public bool Keep;
    public bool Force;
    public bool Recurse;
    public bool NoSync;
    public bool Orphan;
    public bool Stack;
    public int TimeoutSeconds = 60;
    public string Node = "";
    /// <summary>The translator and its arguments; empty means "clear".</summary>
    public string[] Translator = [];

    /// <summary>The fsys_goaway flags for the old translator (-f, -R, -S).</summary>
    public Hurd.Interfaces.GoAwayFlags GoAwayFlags =>
        (Force ? Hurd.Interfaces.GoAwayFlags.Force : 0) | (Recurse ? Hurd.Interfaces.GoAwayFlags.Recurse : 0) |
        (NoSync ? Hurd.Interfaces.GoAwayFlags.NoSync : 0);

    public const string Help = """
        Usage: hurd settrans [OPTION...] NODE [TRANSLATOR ARG...]
        Set the passive/active translator on NODE.

          -a, --active               start TRANSLATOR now and set it as NODE's active translator
          -p, --passive              set the passive translator record (default)
          -s, --start                start the passive translator recorded on NODE
          -c, --create               create NODE if it does not exist
          -x, --exclusive            fail (EBUSY) if NODE already has a translator
          -g, --goaway               make the active translator go away (alone: that, and clear the record)
          -k, --keep-active          keep the active translator running when setting the passive one
          -f, --force                when going away, ignore current users (FSYS_GOAWAY_FORCE); a
                                     translator that does not answer or does not exit is killed
          -R, --recursive            when going away, also make child translators go away
          -S, --nosync               when going away, do not sync
          -o, --orphan               leave the old active translator running (not supported here)
          -L, --stack                stack on the old translator (not supported here)
          -t, --timeout=SEC          wait at most SEC seconds for the translator to start (default 60)
          -h, --help                 show this help

        On a plain Linux node, TRANSLATOR is started now as a daemon and mounted on NODE through
        FUSE, whether -a is given or not (Linux cannot start it on the first lookup); -p also records
        the command in NODE's trusted.gnu.translator xattr (user.gnu.translator when not root), which
        `hurd settrans -s NODE` starts later. Translators serving one file (hello) need a file NODE,
        the others a directory; -c creates the right kind.
        Inside a mounted translator's tree, the translator set with file_set_translator: the parent
        filesystem keeps the passive record and starts it on the first lookup; -a makes the parent
        start it now.
        TRANSLATOR is a name (hello, tmpfs, ext2fs), /hurd/NAME, or a path to a program.

        Exit status: 0 success, 1 failure, 2 usage error.

        """;

    /// <summary>Parses argv; returns null and sets <paramref name="error"/> on a usage error.</summary>
    public static SettransOptions? Parse(string[] args, out string? error, out bool help)
    {
        var o = new SettransOptions();
        error = null;
        help = false;
        int i = 0;
        for (; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "--") { i++; break; }
            if (!a.StartsWith('-') || a == "-") break;
            if (a.StartsWith("--"))
            {
                string name = a[2..], val = "";
                int eq = name.IndexOf('=');
                if (eq >= 0) { val = name[(eq + 1)..]; name = name[..eq]; }
                switch (name)
                {
                    case "active": o.Active = true; break;
                    case "passive": o.Passive = o.PassiveExplicit = true; break;
                    case "start": o.Start = true; break;
                    case "create": o.Create = true; break;
                    case "exclusive": o.Exclusive = true; break;
                    case "goaway": o.GoAway = true; break;
                    case "keep-active": o.Keep = true; break;
                    case "force": o.Force = true; break;
                    case "recursive": o.Recurse = true; break;
                    case "nosync": o.NoSync = true; break;
                    case "orphan": o.Orphan = true; break;
                    case "stack": o.Stack = true; break;
                    case "help": help = true; return o;
                    case "timeout":
                        if (eq < 0 && i + 1 < args.Length) val = args[++i];
                        if (!int.TryParse(val, out o.TimeoutSeconds) || o.TimeoutSeconds <= 0) { error = $"invalid timeout '{val}'"; return null; }
                        break;
                    default: error = $"unrecognized option '{a}'"; return null;
                }
                continue;
            }
            for (int j = 1; j < a.Length; j++)
            {
                switch (a[j])
                {
                    case 'a': o.Active = true; break;
                    case 'p': o.Passive = o.PassiveExplicit = true; break;
                    case 's': o.Start = true; break;
                    case 'c': o.Create = true; break;
                    case 'x': o.Exclusive = true; break;
                    case 'g': o.GoAway = true; break;
                    case 'k': o.Keep = true; break;
                    case 'f': o.Force = true; break;
                    case 'R': o.Recurse = true; break;
                    case 'S': o.NoSync = true; break;
                    case 'o': o.Orphan = true; break;
                    case 'L': o.Stack = true; break;
                    case 'h': help = true; return o;
                    case 't':
                        string v = j + 1 < a.Length ? a[(j + 1)..] : (i + 1 < args.Length ? args[++i] : "");
                        if (!int.TryParse(v, out o.TimeoutSeconds) || o.TimeoutSeconds <= 0) { error = $"invalid timeout '{v}'"; return null; }
                        j = a.Length;
                        break;
                    default: error = $"invalid option -- '{a[j]}'"; return null;
                }
            }
        }
        if (i >= args.Length) { error = "missing NODE"; return null; }
        o.Node = args[i++];
        o.Translator = args[i..];
        // As utils/settrans.c: by default, set the passive translator.
        if (!o.Active && !o.Start) o.Passive = true;
        if (o.Start && o.Translator.Length > 0) { error = "-s starts the recorded passive translator: give no TRANSLATOR"; return null; }
        return o;
    }
}
