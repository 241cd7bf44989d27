/// The commit this binary was built from. `unknown` in a plain `swift build`; the Dockerfile and
/// `deploy/release.sh` write the commit here before building (the line below is what they replace).
let buildCommit = "unknown"
