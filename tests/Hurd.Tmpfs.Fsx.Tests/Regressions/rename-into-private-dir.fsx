# (as uid 1000) a name moved by RENAME_EXCHANGE into a directory only its owner may search kept the entry timeout
# of its old place: after chmod 0644 of that directory the cached name still let utimensat through (Linux: EACCES).
symlink path=s1 target=s0
mkdir path=d0 mode=0755
open path=f2 flags=O_RDWR|O_CREAT|O_EXCL mode=0640
mkdir path=d0/d2 mode=0700
symlink path=s0 target=d0/d2
open slot=2 path=s1/f0 flags=O_RDONLY|O_CREAT|O_EXCL|O_APPEND mode=04755
rename path=d0/d2/f0 path2=f2 flags=RENAME_EXCHANGE
chmod path=s1 mode=0644
utimensat path=s1/f0 atime=0.UTIME_NOW mtime=1092715446.682572239
