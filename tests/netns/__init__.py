"""
Tests that send real multicast. They run only inside a network namespace the
test run made itself (C{tools/run-tests} runs this package under C{unshare
--net} via C{tools/in-netns}); anywhere else they skip. See L{isolation}.
"""
