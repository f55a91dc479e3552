# (as uid 1000, owner of the root) a known difference, not a bug: after fchmod takes the owner's search permission
# away from the root, utimensat on "." is EACCES in Linux (the walk from the root is refused), but through FUSE
# without default_permissions "." never reaches the server, which sees the owner set times and allows it.
open slot=4 path=. flags=O_RDONLY|O_APPEND mode=0640
fchmod slot=4
utimensat path=. atime=1143233579.113971904 mtime=1208575260.243062552
