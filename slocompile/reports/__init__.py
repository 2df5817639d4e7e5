"""What a build leaves behind: terminal summary, run_results.json, manifest.json, junit.xml."""
